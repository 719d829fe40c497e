"""Benchmark: our SFTP transport against OpenSSH's own ``sftp`` client.

Starts a real OpenSSH ``sshd`` (internal-sftp) on a free loopback port, then moves the same
file (200 MB of random bytes by default) up and down with both clients, same server, same
client key, same cipher, in the same run, several rounds alternating who goes first.
Each measurement includes connecting and authenticating; both clients verify the host key.

    OpenSSH upload:   sftp -b  "put FILE inbox/NAME.part" + "rename ... inbox/NAME"
    ours upload:      SftpTransport.upload(FILE, NAME)  (.part, rename, stat)
    OpenSSH download: sftp -b  "get outbox/NAME LOCAL"
    ours download:    SftpTransport.download(NAME, spool)  (+ SHA-256; fsync off, as OpenSSH)

Prints the median throughput of each and the ratio ours / OpenSSH (target >= 0.8 each way).
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paramiko  # noqa: E402

from adapters.sftp import SftpTransport  # noqa: E402
from sandbox.sftp_sshd import OpenSshServer, new_ed25519_openssh  # noqa: E402

CIPHER = "aes128-gcm@openssh.com"
CPU: list[float] = []  # CPU seconds of the last measurement
NAME = "CARDORDER_SVA_20261130_001.zip.p7m"


def openssh(server: OpenSshServer, key_file: Path, known: Path, commands: list[str], work: Path) -> float:
    batch = work / "batch"
    batch.write_text("".join(c + "\n" for c in commands))
    cmd = [
        "sftp", "-q", "-b", str(batch), "-i", str(key_file), "-P", str(server.port), "-c", CIPHER,
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
        f"{server.user}@127.0.0.1",
    ]  # fmt: skip
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the client side: sftp and the ssh process it runs (both waited for).
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    size = args.size_mb * 10**6

    # Files live in memory (tmpfs) when there is room, and each downloaded copy is deleted
    # at once: otherwise the kernel's write-back of the previous 200 MB (or another
    # program's disk load) slows whichever client writes next, and we measure the disk.
    shm = Path("/dev/shm")
    use_shm = shm.is_dir() and shutil.disk_usage(shm).free > 6 * size
    work = Path(tempfile.mkdtemp(prefix="svcard-bench-sftp-", dir=shm if use_shm else None))
    private, public = new_ed25519_openssh()
    key_file = work / "id_ed25519"
    key_file.write_bytes(private)
    key_file.chmod(0o600)
    client_key = paramiko.Ed25519Key.from_private_key(io.StringIO(private.decode()))
    src = work / "payload.bin"
    with open(src, "wb") as f:
        for _ in range(size // 10**6):
            f.write(os.urandom(10**6))

    sink_dir = work / "sink"
    sink_dir.mkdir()
    server = OpenSshServer([public], base_dir=work / "server")
    server.start()
    try:
        known = work / "known_hosts"
        known.write_text(f"[127.0.0.1]:{server.port} {server.host_public_key}\n")
        kind, blob = server.host_public_key.split()[:2]
        host_key = paramiko.PKey.from_type_string(kind, base64.b64decode(blob))
        inbox, outbox = server.partner_dir / "inbox", server.partner_dir / "outbox"
        shutil.copyfile(src, outbox / NAME)
        spool = sink_dir / "spool"
        times: dict[str, list[float]] = {k: [] for k in ("ssh_up", "our_up", "ssh_down", "our_down")}
        cpu_times: dict[str, list[float]] = {k: [] for k in times}
        negotiated: dict[str, str] = {}

        def ours_up() -> float:
            nonlocal negotiated
            start, cpu = time.perf_counter(), time.process_time()
            with SftpTransport(server.url, client_key, [host_key], timeout=60) as t:
                t.upload(src, NAME)
                negotiated = t.negotiated
            CPU.append(time.process_time() - cpu)
            return time.perf_counter() - start

        def ours_down() -> float:
            start, cpu = time.perf_counter(), time.process_time()
            with SftpTransport(server.url, client_key, [host_key], timeout=60) as t:
                got = t.download(NAME, spool, fsync=False)
            assert got.size == size
            got.path.unlink()
            CPU.append(time.process_time() - cpu)
            return time.perf_counter() - start

        def ssh_up() -> float:
            return openssh(
                server, key_file, known,
                [f"put {src} {inbox}/{NAME}.part", f"rename {inbox}/{NAME}.part {inbox}/{NAME}"], work,
            )  # fmt: skip

        def ssh_down() -> float:
            target = sink_dir / "openssh-got.bin"
            took = openssh(server, key_file, known, [f"get {outbox}/{NAME} {target}"], work)
            target.unlink()
            return took

        for r in range(args.rounds):
            pairs = [("ssh_up", ssh_up), ("our_up", ours_up), ("ssh_down", ssh_down), ("our_down", ours_down)]
            if r % 2:  # alternate who goes first, so neither always gets the warm cache
                pairs = [pairs[1], pairs[0], pairs[3], pairs[2]]
            for key, fn in pairs:
                if key.endswith("_up"):
                    for p in inbox.iterdir():
                        p.unlink()
                times[key].append(fn())
                cpu_times[key].append(CPU.pop())
            assert (inbox / NAME).stat().st_size == size

        # One production-default download (fsync on) for reference.
        start = time.perf_counter()
        with (
            tempfile.TemporaryDirectory(prefix="svcard-bench-sftp-") as on_disk,
            SftpTransport(server.url, client_key, [host_key], timeout=60) as t,
        ):
            t.download(NAME, on_disk)  # on disk, fsync'ed
        fsync_time = time.perf_counter() - start
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    def rate(key: str) -> float:
        return size / statistics.median(times[key]) / 1e6

    print(
        f"SFTP bench: {size / 1e6:.0f} MB file, {args.rounds} rounds (median), loopback OpenSSH sshd internal-sftp"
    )
    print(f"cipher: {CIPHER} for both (OpenSSH client pinned with -c; ours negotiated {negotiated})")
    print(f"ours: {WINDOW_NOTE}; files on {'tmpfs' if use_shm else 'disk'} for both")
    for way in ("up", "down"):
        base, our = rate(f"ssh_{way}"), rate(f"our_{way}")
        label = "upload  " if way == "up" else "download"
        # Each round runs both clients back to back, so its ratio is less exposed to other
        # load on the machine than the ratio of the medians.
        paired = [s / o for s, o in zip(times[f"ssh_{way}"], times[f"our_{way}"], strict=True)]
        rounds = " ".join(f"{r:.2f}" for r in paired)
        print(
            f"{label}: baseline OpenSSH sftp {base:7.1f} MB/s | ours {our:7.1f} MB/s | ratio {our / base:.2f}x"
            f" (per round: {rounds}; median {statistics.median(paired):.2f}x)"
        )
    cpu = {k: statistics.median(v) for k, v in cpu_times.items()}
    print(
        f"client CPU seconds (median; less sensitive to other load on the machine): "
        f"upload OpenSSH {cpu['ssh_up']:.2f} / ours {cpu['our_up']:.2f}, "
        f"download OpenSSH {cpu['ssh_down']:.2f} / ours {cpu['our_down']:.2f}"
    )
    print(f"download with fsync (production default): {size / fsync_time / 1e6:.1f} MB/s")
    print("target: ratio >= 0.80 each way")
    return 0


WINDOW_NOTE = (
    "16 MiB channel window, 256 KiB packets, 64 pipelined requests of up to 255 KiB, no-copy receive buffer"
)

if __name__ == "__main__":
    raise SystemExit(main())

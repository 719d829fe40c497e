"""Seal and open a 100 MB file: our envelope code against `openssl cms`, same file, same run.

Baseline: the partners/README.md pipelines (`openssl cms -sign | openssl cms -encrypt`,
`openssl cms -decrypt | openssl cms -verify`). Ours: a fresh Python process that loads
the keystore and seals/opens the file the way `svcard envelope` does (Keystore.seal_file /
open_file: the file is read into the output buffer and encrypted or decrypted there, in
place, then written), and the `svcard envelope` command itself. Each runs in its own child
process; wall time and peak RSS (wait4) are per process tree. Targets: time at most 1.5x
openssl's, peak memory at most 3x the file size.

    .venv/bin/python bench/envelope.py [--mb 100] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "bench-passphrase-0123"

WORKER = """
import sys
from pathlib import Path
from keys.keystore import Keystore
op, ks_path, src, dst = sys.argv[1:5]
ks = Keystore(Path(ks_path), {passphrase!r})
out = ks.seal_file(Path(src), to="BOCSZ") if op == "seal" else ks.open_file(Path(src), from_="BOCSZ")
with open(dst, "wb") as fh:
    fh.write(out)
"""


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of ``cmd`` and its children."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode() if p.stderr else ""
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{err}")
    return elapsed, usage.ru_maxrss * 1024


def best(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, int]:
    results = [run(cmd, env) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from keys.identity import cert_pem, key_pem, make_identity
    from keys.keystore import Keystore

    with tempfile.TemporaryDirectory(prefix="bench-envelope-") as tmp:
        d = Path(tmp)
        ks = Keystore(d / "keys", PASSPHRASE)
        ks.init()
        bank_cert, bank_key = make_identity("BOCSZ bench")
        ks.trust("BOCSZ", cert_pem(bank_cert))
        (d / "bank.crt").write_bytes(cert_pem(bank_cert))
        (d / "bank.key").write_bytes(key_pem(bank_key))
        (d / "sva-sign.crt").write_bytes(ks.export_cert("sign"))
        (d / "sva-decrypt.crt").write_bytes(ks.export_cert("decrypt"))
        # openssl gets our keys unencrypted in files, as a partner would hold its own.
        sign_cert, sign_key = ks.signer()
        (d / "sva-sign.key").write_bytes(key_pem(sign_key))
        dec_cert, dec_key = ks.decryption_keys()[0]
        (d / "sva-decrypt.key").write_bytes(key_pem(dec_key))

        size = args.mb * 1024 * 1024
        plain = d / "F.txt"
        with open(plain, "wb") as fh:  # compressible-ish text, like a real swipe file
            line = b"D|0000000001|6217000000000000001|20261130093012|SZ-METRO-L1|-200|SUCCESS\r\n"
            block = line * (1024 * 1024 // len(line) + 1)
            written = 0
            while written < size:
                chunk = block[: size - written]
                fh.write(chunk)
                written += len(chunk)

        py = sys.executable
        worker = WORKER.format(passphrase=PASSPHRASE)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cli_env = {k: v for k, v in env.items() if not k.startswith("SVCARD_")}
        cli_env.update(
            SVCARD_VAR_DIR=str(d / "var"), SVCARD_KEYS_DIR=str(d / "keys"), SVCARD_KEY_PASSPHRASE=PASSPHRASE
        )
        svcard = str(Path(py).parent / "svcard")

        def sh(cmd: str) -> list[str]:
            return ["bash", "-o", "pipefail", "-c", f"cd {d} && {cmd}"]

        # Inbound file for the open benchmark: made by openssl, as a partner would.
        ossl_seal = sh(
            "openssl cms -sign -binary -nodetach -md sha256 -signer bank.crt -inkey bank.key -in F.txt "
            "-outform DER | openssl cms -encrypt -binary -aes256 -outform DER -out in.p7m sva-decrypt.crt"
        )
        ossl_open = sh(
            "openssl cms -decrypt -binary -inform DER -in in.p7m -recip sva-decrypt.crt -inkey sva-decrypt.key "
            "| openssl cms -verify -binary -inform DER -CAfile bank.crt -out in.ossl.txt"
        )
        rows = []
        t_os, m_os = best(ossl_seal, args.runs)
        t_py, m_py = best(
            [py, "-c", worker, "seal", str(d / "keys"), str(plain), str(d / "out.p7m")], args.runs, env
        )
        t_cli, m_cli = best(
            [svcard, "envelope", "seal", "--to", "BOCSZ", str(plain), str(d / "out2.p7m")], args.runs, cli_env
        )
        rows.append(("seal", t_os, m_os, t_py, m_py, t_cli, m_cli))

        t_oo, m_oo = best(ossl_open, args.runs)
        t_po, m_po = best(
            [py, "-c", worker, "open", str(d / "keys"), str(d / "in.p7m"), str(d / "in.ours.txt")],
            args.runs,
            env,
        )
        t_co, m_co = best(
            [svcard, "envelope", "open", "--from", "BOCSZ", str(d / "in.p7m"), str(d / "in.cli.txt")],
            args.runs,
            cli_env,
        )
        rows.append(("open", t_oo, m_oo, t_po, m_po, t_co, m_co))

        # Cross-checks: what we sealed opens in openssl, and we read what openssl made.
        check = sh(
            "openssl cms -decrypt -binary -inform DER -in out.p7m -recip bank.crt -inkey bank.key "
            "| openssl cms -verify -binary -inform DER -CAfile sva-sign.crt -out back.txt 2>/dev/null"
        )
        run(check)
        for f in ("back.txt", "in.ours.txt", "in.cli.txt", "in.ossl.txt"):
            assert (d / f).read_bytes() == plain.read_bytes(), f

        mb = 1024 * 1024
        print(
            f"file: {args.mb} MB; best of {args.runs} runs (time), worst peak RSS; baseline: openssl cms pipelines"
        )
        print(
            f"{'':6} {'openssl s':>10} {'ours s':>8} {'ratio':>6} {'ours peak':>10} {'x file':>7}"
            f" {'svcard cli s':>13} {'ratio':>6} {'cli peak':>9} {'x file':>7} {'openssl peak':>13}"
        )
        ok = True
        for op, t_o, m_o, t_p, m_p, t_c, m_c in rows:
            r_p, r_c = t_p / t_o, t_c / t_o
            print(
                f"{op:6} {t_o:10.2f} {t_p:8.2f} {r_p:6.2f} {m_p / mb:8.0f}MB {m_p / size:7.2f}"
                f" {t_c:13.2f} {r_c:6.2f} {m_c / mb:7.0f}MB {m_c / size:7.2f} {m_o / mb:11.0f}MB"
            )
            ok &= r_p <= 1.5 and m_p <= 3 * size
        print("targets (library worker: time <= 1.5x openssl, peak <= 3x file):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()

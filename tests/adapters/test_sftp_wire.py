"""Pipelined SFTP reads and writes against a scripted server: short reads, responses out of
order, packets split across receives, a server error mid-transfer (pure protocol logic)."""

from __future__ import annotations

import io
import random
import struct

import pytest

from adapters.sftp_wire import CMD_DATA, CMD_READ, CMD_STATUS, CMD_WRITE, BulkIO, LocalIOError, RemoteStatus


class ScriptedServer:
    """Answers READ/WRITE like an SFTP server with quirks; speaks through sendall/recv."""

    def __init__(self, content: bytes, seed: int, max_read: int, fail_write_at: int | None = None) -> None:
        self.content = bytearray(content)
        self.rnd = random.Random(seed)
        self.max_read = max_read
        self.fail_write_at = fail_write_at
        self.pending: list[bytes] = []  # whole response packets not yet "sent"
        self.wire = b""  # bytes sent, not yet received

    @staticmethod
    def _packet(kind: int, rid: int, body: bytes) -> bytes:
        return struct.pack(">IBI", len(body) + 5, kind, rid) + body

    def sendall(self, data: bytes) -> None:
        size, kind, rid = struct.unpack_from(">IBI", data)
        assert len(data) == size + 4
        (hlen,) = struct.unpack_from(">I", data, 9)
        offset, length = struct.unpack_from(">QI", data, 13 + hlen)
        if kind == CMD_READ:
            if offset >= len(self.content):
                self.pending.append(self._packet(CMD_STATUS, rid, struct.pack(">I", 1)))
            else:
                # Short reads: never more than max_read, sometimes less.
                n = min(length, self.max_read, len(self.content) - offset, self.rnd.randint(1, self.max_read))
                block = bytes(self.content[offset : offset + n])
                self.pending.append(self._packet(CMD_DATA, rid, struct.pack(">I", n) + block))
        elif kind == CMD_WRITE:
            block = data[13 + hlen + 12 :]
            assert len(block) == length
            if self.fail_write_at is not None and offset >= self.fail_write_at:
                msg = b"disk quota exceeded"
                body = struct.pack(">II", 4, len(msg)) + msg + struct.pack(">I", 0)
                self.pending.append(self._packet(CMD_STATUS, rid, body))
                return
            end = offset + length
            if len(self.content) < end:
                self.content.extend(b"\0" * (end - len(self.content)))
            self.content[offset:end] = block
            self.pending.append(self._packet(CMD_STATUS, rid, struct.pack(">I", 0)))

    def recv(self, nbytes: int) -> bytes:
        if self.pending:
            self.rnd.shuffle(self.pending)  # responses out of order
            self.wire += b"".join(self.pending)
            self.pending.clear()
        if not self.wire:
            return b""
        cut = self.rnd.randint(1, min(nbytes, len(self.wire)))  # packets split anywhere
        out, self.wire = self.wire[:cut], self.wire[cut:]
        return out


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("size", [0, 1, 4095, 100_000, 262_144])
def test_read_all_reassembles_the_file_in_order(seed: int, size: int):
    content = random.Random(seed).randbytes(size)
    server = ScriptedServer(content, seed, max_read=5000)
    bulk = BulkIO(server, read_size=8192, write_size=4096, depth=8)
    out = io.BytesIO()
    # A wrong expected size (the file grew or shrank since the stat) still reads it whole.
    expected = [size, size // 2, size * 2][seed % 3]
    assert bulk.read_all(b"h1", expected, out.write) == size
    assert out.getvalue() == content and bulk.clean


@pytest.mark.parametrize("seed", range(4))
def test_write_all_then_server_refusal_keeps_the_stream_in_step(seed: int):
    content = random.Random(seed).randbytes(150_000)
    server = ScriptedServer(b"", seed, max_read=5000)
    bulk = BulkIO(server, read_size=8192, write_size=4096, depth=8)
    assert bulk.write_all(b"h2", io.BytesIO(content)) == len(content)
    assert bytes(server.content) == content

    server.fail_write_at = 50_000
    with pytest.raises(RemoteStatus, match="failure: disk quota exceeded"):
        bulk.write_all(b"h2", io.BytesIO(content))
    assert bulk.clean and not server.wire and not server.pending  # every answer read off
    out = io.BytesIO()
    assert bulk.read_all(b"h2", len(content), out.write) == len(content)  # still usable
    assert out.getvalue() == content


def test_local_sink_failure_is_reported_as_ours_and_drained():
    server = ScriptedServer(bytes(100_000), 1, max_read=8192)
    bulk = BulkIO(server, read_size=8192, write_size=4096, depth=8)

    def full_disk(block: memoryview) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(LocalIOError, match="No space left"):
        bulk.read_all(b"h3", 100_000, full_disk)
    assert bulk.clean and not server.wire and not server.pending


def test_connection_lost_mid_read_leaves_the_stream_unclean():
    server = ScriptedServer(bytes(100_000), 2, max_read=8192)
    bulk = BulkIO(server, read_size=8192, write_size=4096, depth=8)
    server.recv = lambda n: b""  # type: ignore[method-assign]
    with pytest.raises(EOFError):
        bulk.read_all(b"h4", 100_000, lambda b: None)
    assert not bulk.clean

"""Pipelined bulk reads and writes of SFTP v3 packets over an open paramiko channel.

paramiko's own ``SFTPFile`` caps requests at 32 KiB and its prefetch buffer re-sorts every
buffered block on each read, which makes a 200 MB download run at a tenth of OpenSSH's
speed. For the two bulk operations we therefore speak the protocol ourselves on the same
channel, the way OpenSSH's client does: many READ/WRITE requests in flight, the largest
request size the server advertises (``limits@openssh.com``), responses parsed from one
large buffer. Everything else (open, stat, rename, listing) stays with paramiko's
``SFTPClient``. This module is private to ``adapters.sftp``.

Request ids are taken from a range paramiko's client never reaches (it counts up from 1),
so a response can never be mistaken for one of its own; and because the client is used
from one thread at a time, no paramiko request is outstanding while a bulk loop runs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import BinaryIO, Protocol

# SFTP v3 packet types and status codes (draft-ietf-secsh-filexfer-02).
CMD_READ, CMD_WRITE = 5, 6
CMD_STATUS, CMD_DATA = 101, 103
SSH_FX_OK, SSH_FX_EOF = 0, 1
SSH_FX_NAMES = {
    2: "no such file",
    3: "permission denied",
    4: "failure",
    5: "bad message",
    8: "operation unsupported",
}

_ID_BASE = 0x40000000
_RECV_SIZE = 4 << 20


class Channel(Protocol):
    def sendall(self, data: bytes) -> None: ...
    def recv(self, nbytes: int) -> bytes: ...


#: An SFTP WRITE message's bytes besides its handle and its data: uint32 length, byte type,
#: uint32 id, uint32 handle length, uint64 offset, uint32 data length.
WRITE_OVERHEAD = 4 + 1 + 4 + 4 + 8 + 4


class RemoteStatus(Exception):
    """The server answered a bulk request with an error status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{SSH_FX_NAMES.get(code, f'status {code}')}: {message}")
        self.code = code


class LocalIOError(Exception):
    """The local sink or source failed (disk full, unreadable file); wraps the OSError."""


class BulkIO:
    """Bulk transfer on one SFTP channel. ``read_size``/``write_size`` are per request.

    ``clean`` is False while a transfer runs and stays False if it ended by a network
    failure: the channel may then hold part of a response, and must be closed. After a
    refusal by the server or a local failure the responses still in flight are drained
    first, so the channel stays usable.
    """

    def __init__(
        self,
        channel: Channel,
        read_size: int,
        write_size: int,
        depth: int = 64,
        max_message: int | None = None,
    ) -> None:
        """``max_message``: the largest SFTP message that goes in one SSH channel packet
        (paramiko sends at most ``out_max_packet_size - 64`` bytes of data a packet). A
        write whose whole message fits goes as one packet; one a few bytes over goes as
        two, a full one and a tiny one, which doubles the per-packet cost of an upload."""
        self._chan = channel
        self.max_message = max_message
        self._chunk = b""  # the last bytes received, read from _pos on
        self._pos = 0
        self._next_id = _ID_BASE
        self.read_size = read_size
        self.write_size = write_size
        self.depth = depth
        self.clean = True
        self._inflight: dict[int, tuple[int, int]] = {}

    def _send(self, kind: int, payload: bytes, data: bytes = b"") -> int:
        """Send one request; ``data`` (a write's bytes) is appended without an extra copy."""
        rid = self._next_id
        self._next_id = _ID_BASE + ((self._next_id + 1 - _ID_BASE) % 0x3FFFFFFF)
        size = len(payload) + len(data) + 5
        self._chan.sendall(b"".join((struct.pack(">IBI", size, kind, rid), payload, data)))
        return rid

    def _take(self, n: int) -> memoryview:
        """The next ``n`` bytes of the stream, copied only when they span two receives."""
        chunk, pos = self._chunk, self._pos
        if len(chunk) - pos >= n:
            self._pos = pos + n
            return memoryview(chunk)[pos : pos + n]
        parts = [chunk[pos:]]
        need = n - (len(chunk) - pos)
        while need > 0:
            data = self._chan.recv(max(need, _RECV_SIZE))
            if not data:
                raise EOFError("SFTP channel closed by the server")
            if len(data) >= need:
                parts.append(data[:need])
                self._chunk, self._pos = data, need
                need = 0
            else:
                parts.append(data)
                need -= len(data)
        return memoryview(b"".join(parts))

    def _packet(self) -> tuple[int, int, memoryview]:
        """The next response: (type, request id, body after the id).

        The body is a view into the received bytes (no copy): most packets lie inside one
        receive, and a 255 KiB read reply is copied once fewer times for it.
        """
        (size,) = struct.unpack(">I", self._take(4))
        packet = self._take(size)
        return packet[0], struct.unpack_from(">I", packet, 1)[0], packet[5:]

    @staticmethod
    def _status(body: memoryview) -> tuple[int, str]:
        code = struct.unpack_from(">I", body)[0]
        try:
            (mlen,) = struct.unpack_from(">I", body, 4)
            message = bytes(body[8 : 8 + mlen]).decode("utf-8", "replace")
        except struct.error:
            message = ""
        return code, message

    def _guarded(self, run: Callable[[], int]) -> int:
        self.clean = False
        self._inflight = {}
        try:
            done = run()
        except (RemoteStatus, LocalIOError):
            for _ in range(len(self._inflight)):
                self._packet()  # a failure here leaves clean False: the channel is dropped
            self._inflight = {}
            self.clean = True
            raise
        self.clean = True
        return done

    def read_all(self, handle: bytes, expected_size: int, sink: Callable[[memoryview], None]) -> int:
        """Read the open file ``handle`` from offset 0 to EOF, in order, into ``sink``.

        ``expected_size`` only sizes the first burst of requests; reading goes on to the
        real end of file, so a short or long file is read whole. Returns the byte count.
        """
        return self._guarded(lambda: self._read_all(handle, expected_size, sink))

    def _read_all(self, handle: bytes, expected_size: int, sink: Callable[[memoryview], None]) -> int:
        head = struct.pack(">I", len(handle)) + handle
        inflight = self._inflight
        ready: dict[int, bytes | memoryview] = {}  # out-of-order blocks by offset
        written = 0
        next_off = 0
        eof_at: int | None = None
        limit = max(expected_size, 1)

        def issue() -> None:
            nonlocal next_off
            while len(inflight) < self.depth and next_off < limit:
                if eof_at is not None and next_off >= eof_at:
                    return
                length = self.read_size
                rid = self._send(CMD_READ, head + struct.pack(">QI", next_off, length))
                inflight[rid] = (next_off, length)
                next_off += length

        issue()
        while inflight:
            kind, rid, body = self._packet()
            if rid not in inflight:
                raise EOFError(f"unexpected SFTP response id {rid}")
            offset, length = inflight.pop(rid)
            if kind == CMD_STATUS:
                code, message = self._status(body)
                if code != SSH_FX_EOF:
                    raise RemoteStatus(code, message)
                eof_at = offset if eof_at is None else min(eof_at, offset)
            elif kind == CMD_DATA:
                (dlen,) = struct.unpack_from(">I", body)
                data = body[4 : 4 + dlen]
                if dlen < length and dlen > 0:
                    # A short read that is not EOF: ask for the rest of that block.
                    rid2 = self._send(CMD_READ, head + struct.pack(">QI", offset + dlen, length - dlen))
                    inflight[rid2] = (offset + dlen, length - dlen)
                if dlen:
                    ready[offset] = data
                else:
                    eof_at = offset if eof_at is None else min(eof_at, offset)
            else:
                raise EOFError(f"unexpected SFTP response type {kind}")
            while written in ready:
                block = ready.pop(written)
                try:
                    sink(block)  # type: ignore[arg-type]
                except OSError as exc:
                    raise LocalIOError(exc.strerror or str(exc)) from exc
                written += len(block)
            if eof_at is None and not inflight:
                # Everything asked for has come back without EOF: probe on (one request
                # past the expected end sees EOF; a file that grew is read to its end).
                limit = next_off + self.read_size * (1 if next_off >= expected_size else self.depth)
            issue()
        if ready:
            raise EOFError("SFTP read ended with a gap in the data")
        return written

    def write_all(self, handle: bytes, source: BinaryIO) -> int:
        """Write ``source`` (read to its end) to the open file ``handle`` from offset 0."""
        return self._guarded(lambda: self._write_all(handle, source))

    def _write_all(self, handle: bytes, source: BinaryIO) -> int:
        head = struct.pack(">I", len(handle)) + handle
        inflight = self._inflight
        offset = 0
        block_size = self.write_size
        if self.max_message is not None:
            # length, type and id (9), the handle (4 + n), offset and data length (12)
            block_size = max(4096, min(block_size, self.max_message - WRITE_OVERHEAD - len(handle)))
        self.last_write_block = block_size

        def collect() -> None:
            kind, rid, body = self._packet()
            if rid not in inflight:
                raise EOFError(f"unexpected SFTP response id {rid}")
            del inflight[rid]
            code, message = self._status(body) if kind == CMD_STATUS else (-1, "not a status")
            if code != SSH_FX_OK:
                raise RemoteStatus(code, message)

        while True:
            try:
                block = source.read(block_size)
            except OSError as exc:
                raise LocalIOError(exc.strerror or str(exc)) from exc
            if not block:
                break
            while len(inflight) >= self.depth:
                collect()
            rid = self._send(CMD_WRITE, head + struct.pack(">QI", offset, len(block)), block)
            inflight[rid] = (offset, len(block))
            offset += len(block)
        while inflight:
            collect()
        return offset

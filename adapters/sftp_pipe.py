"""A receive buffer for paramiko channels that hands received packets on without copying.

paramiko's ``BufferedPipe`` keeps a channel's incoming bytes in an ``array``: every
packet is copied in, and every read copies out twice (slice, then ``tobytes``). For a bulk
download that is three extra passes over every byte, on a path that is already CPU-bound
under the GIL. This subclass keeps the received ``bytes`` objects as they are, in a queue,
and a read that takes everything buffered gets the packet itself (or one join of several).

It overrides only the two storage hooks of ``BufferedPipe`` (``_buffer_frombytes``,
``_buffer_tobytes``) and the ``_buffer`` container they share with its locking and
waiting logic, which stays paramiko's. :func:`install` swaps it into a channel with
nothing buffered; when paramiko's pipe is not the one this was written for, it does
nothing, and the channel keeps working with the original.
"""

from __future__ import annotations

from collections import deque

import paramiko
from paramiko.buffered_pipe import BufferedPipe


class _Chunks:
    """The subset of ``array.array('B')`` that ``BufferedPipe`` uses, over a deque of bytes."""

    def __init__(self) -> None:
        self._q: deque[bytes] = deque()
        self._head = 0  # bytes of _q[0] already consumed
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def frombytes(self, data: bytes) -> None:
        if data:
            self._q.append(bytes(data))
            self._len += len(data)

    def peek(self, limit: int | None = None) -> bytes:
        """The first ``limit`` bytes (all without a limit), not consumed."""
        n = self._len if limit is None else min(limit, self._len)
        q = self._q
        if not n:
            return b""
        first = q[0]
        if self._head == 0 and len(first) == n:
            return first  # the common case: one whole packet, no copy
        if len(first) - self._head >= n:
            return first[self._head : self._head + n]
        parts, need = [memoryview(first)[self._head :]], n - (len(first) - self._head)
        for chunk in list(q)[1:]:
            if need <= 0:
                break
            parts.append(memoryview(chunk)[:need])
            need -= min(need, len(chunk))
        return b"".join(parts)

    def __delitem__(self, key: slice) -> None:
        if not isinstance(key, slice) or key.start not in (None, 0) or key.step is not None:
            raise TypeError("only del buf[:n] is supported")
        n = self._len if key.stop is None else min(key.stop, self._len)
        self._len -= n
        q = self._q
        while n:
            avail = len(q[0]) - self._head
            if avail <= n:
                q.popleft()
                self._head = 0
                n -= avail
            else:
                self._head += n
                n = 0


class ChunkPipe(BufferedPipe):
    def __init__(self) -> None:
        super().__init__()
        self._buffer = _Chunks()

    def _buffer_frombytes(self, data: bytes) -> None:
        self._buffer.frombytes(data)

    def _buffer_tobytes(self, limit: int | None = None) -> bytes:
        return self._buffer.peek(limit)


def install(channel: paramiko.Channel) -> bool:
    """Give ``channel`` a :class:`ChunkPipe`; only when its own pipe is empty and unchanged."""
    old = getattr(channel, "in_buffer", None)
    if type(old) is not BufferedPipe or not all(
        hasattr(old, a) for a in ("_buffer_frombytes", "_buffer_tobytes", "_lock", "_cv", "_event", "_closed")
    ):
        return False
    with channel.lock:
        with old._lock:
            if len(old._buffer) or old._closed or old._event is not None:
                return False
            new = channel.in_buffer = ChunkPipe()
    # A feed that was already waiting for the old pipe's lock lands there: pass it on.
    late = old.empty()
    if late:
        new.feed(late)
    return True

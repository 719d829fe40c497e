"""The no-copy channel receive buffer returns exactly what paramiko's own pipe would."""

from __future__ import annotations

import random
import threading

import pytest
from paramiko.buffered_pipe import BufferedPipe, PipeTimeout

from adapters.sftp_pipe import ChunkPipe


@pytest.mark.parametrize("seed", range(20))
def test_same_bytes_as_paramikos_pipe(seed: int):
    rnd = random.Random(seed)
    ours, theirs = ChunkPipe(), BufferedPipe()
    for _ in range(300):
        if rnd.random() < 0.5:
            data = rnd.randbytes(rnd.choice([0, 1, 7, 100, 4096, 70_000]))
            ours.feed(data)
            theirs.feed(data)
        else:
            n = rnd.choice([1, 5, 100, 4096, 65_536, 1 << 22])
            if len(theirs):
                assert ours.read(n) == theirs.read(n)
        assert len(ours) == len(theirs) and ours.read_ready() == theirs.read_ready()
    assert ours.empty() == theirs.empty()
    assert len(ours) == 0


def test_whole_packet_handed_on_without_copy_and_close_and_timeout():
    pipe = ChunkPipe()
    packet = bytes(range(256)) * 1000
    pipe.feed(packet)
    assert pipe.read(1 << 22) is packet
    with pytest.raises(PipeTimeout):
        pipe.read(10, timeout=0.01)
    threading.Timer(0.05, pipe.feed, args=(b"late",)).start()
    assert pipe.read(10, timeout=5) == b"late"
    pipe.feed(b"rest")
    pipe.close()
    assert pipe.read(10) == b"rest"
    assert pipe.read(10) == b""  # closed and drained

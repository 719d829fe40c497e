import io
import os
from datetime import date

import pytest

from gateway import settings as settings_mod
from gateway.services import archive


@pytest.fixture
def s(tmp_path):
    return settings_mod.load(environ={}, var_dir=tmp_path / "var")


def test_raw_and_plain_copies_are_write_once_and_readable(s, tmp_path):
    src = tmp_path / "CARDREQ_SVA_20270110_001.txt.p7m"
    src.write_bytes(os.urandom(5000))
    a = archive.store_raw(s, "BOCSZ", date(2027, 1, 10), src.name, src)
    target = archive.raw_path(s, a.path)
    assert target.read_bytes() == src.read_bytes()
    assert target.stat().st_mode & 0o222 == 0  # read-only
    assert archive.store_raw(s, "BOCSZ", date(2027, 1, 10), src.name, src) == a  # idempotent

    plain = b"H|CARDREQ|1.0|SVA|BOCSZ|20270110|001|20270110010001\r\nT|0|0\r\n"
    p = archive.store_plain(s, "BOCSZ", date(2027, 1, 10), "CARDREQ_SVA_20270110_001.txt", plain)
    assert plain not in archive.raw_path(s, p.path).read_bytes()  # encrypted at rest
    out = io.BytesIO()
    archive.read_plain(s, p.path, out)
    assert out.getvalue() == plain


def test_archive_is_never_overwritten_with_other_bytes(s, tmp_path):
    src = tmp_path / "f.p7m"
    src.write_bytes(b"one")
    a = archive.store_raw(s, "SZT", date(2027, 1, 1), "f.p7m", src)
    target = archive.raw_path(s, a.path)
    os.chmod(target, 0o600)
    target.write_bytes(b"two")  # simulate damage behind our back
    with pytest.raises(archive.ArchiveConflict):
        archive.store_raw(s, "SZT", date(2027, 1, 1), "f.p7m", src)


def test_two_threads_archiving_the_same_file_both_succeed(s, tmp_path):
    import threading

    src = tmp_path / "SWIPE_BOCSZ_20270111_001.txt.p7m"
    src.write_bytes(os.urandom(300_000))
    results, errors = [], []

    def worker():
        try:
            results.append(archive.store_raw(s, "BOCSZ", date(2027, 1, 11), src.name, src))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len({r.path for r in results}) == 1

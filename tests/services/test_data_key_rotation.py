"""PII data-key rotation on SQLite and PostgreSQL, with a test-only table of Encrypted
columns (the real models are written elsewhere; the rotation is generic)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from gateway import context
from gateway import settings as settings_mod
from gateway.models.types import Encrypted
from gateway.services.data_key_rotation import DataKeyRotationError, count_stale, rotate_data_key
from keys.pii import FieldCipher

OLD, NEW = os.urandom(32), os.urandom(32)


class _Base(DeclarativeBase):
    pass


class Person(_Base):
    __tablename__ = "rotation_test_person"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Encrypted("rotation_test_person.name"))
    mobile: Mapped[str | None] = mapped_column(Encrypted("rotation_test_person.mobile"), nullable=True)
    photo: Mapped[bytes | None] = mapped_column(
        Encrypted("rotation_test_person.photo", binary=True), nullable=True
    )


def _runtime(tmp_path: Path, db_url: str, current: bytes, previous: tuple[bytes, ...] = ()):
    s = settings_mod.load(
        environ={},
        var_dir=tmp_path / "var",
        database_url=db_url,
        data_key=current,
        data_key_previous=previous,
    )
    rt = context.build(s)
    context.install(rt)
    return rt


@pytest.fixture
def people(tmp_path: Path, db_url: str):
    """25 people written under OLD; yields a runtime whose current key is NEW."""
    rt = _runtime(tmp_path, db_url, OLD)
    _Base.metadata.create_all(rt.engine)
    with rt.sessions.begin() as s:
        for i in range(25):
            s.add(
                Person(
                    id=i + 1,
                    name=f"张三{i}",
                    mobile=None if i % 3 else f"1380000{i:04d}",
                    photo=bytes([i]) * 10 if i % 5 == 0 else None,
                )
            )
    rt.engine.dispose()
    rt = _runtime(tmp_path, db_url, NEW, (OLD,))
    yield rt
    context.install(None)
    rt.engine.dispose()


def _all(rt) -> list[tuple]:
    with rt.sessions() as s:
        return [(p.id, p.name, p.mobile, p.photo) for p in s.scalars(sa.select(Person).order_by(Person.id))]


def _raw(rt) -> list[bytes]:
    with rt.engine.connect() as c:
        return [
            bytes(v)
            for row in c.execute(sa.text("SELECT name, mobile, photo FROM rotation_test_person"))
            for v in row
            if v is not None
        ]


def test_rotation_rewrites_every_value_under_the_new_key(people) -> None:
    before = _all(people)
    assert count_stale(people, _Base.metadata)["rotation_test_person.name"] == 25
    report = rotate_data_key(people, batch_size=10, metadata=_Base.metadata)
    assert report.done and report.batches == 3
    assert report.rewritten == {
        "rotation_test_person.name": 25,
        "rotation_test_person.mobile": 9,
        "rotation_test_person.photo": 5,
    }
    assert _all(people) == before
    # Readable with the new key alone: the old key can be dropped.
    only_new = FieldCipher(NEW)
    assert all(only_new.is_current(v) for v in _raw(people))
    assert rotate_data_key(people, metadata=_Base.metadata).rewritten == {}  # nothing left


def test_crash_after_first_batch_then_rerun(people) -> None:
    before = _all(people)

    def crash(table: str, rows: int) -> None:
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        rotate_data_key(people, batch_size=10, metadata=_Base.metadata, on_batch=crash)
    # The first batch is committed, the rest still under OLD, and every row reads.
    assert count_stale(people, _Base.metadata)["rotation_test_person.name"] == 15
    assert _all(people) == before

    report = rotate_data_key(people, batch_size=10, metadata=_Base.metadata)
    assert report.done and report.rewritten["rotation_test_person.name"] == 15
    assert _all(people) == before


def test_unknown_key_stops_with_the_row_named(people, tmp_path: Path, db_url: str) -> None:
    stranger = FieldCipher(os.urandom(32)).encrypt(b"x", "rotation_test_person.name")
    with people.engine.begin() as c:
        c.execute(sa.text("UPDATE rotation_test_person SET name = :v WHERE id = 7"), {"v": stranger})
    with pytest.raises(
        DataKeyRotationError, match=r"rotation_test_person\.name row id=7.*SVCARD_DATA_KEY_PREVIOUS"
    ):
        rotate_data_key(people, batch_size=100, metadata=_Base.metadata)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dev_command_generates_the_new_key_and_keeps_the_old(
    tmp_path: Path, db_url: str, monkeypatch
) -> None:
    from gateway.cli import keys as keys_cli

    var = tmp_path / "var"
    monkeypatch.setattr("gateway.services.data_key_rotation._default_metadata", lambda: _Base.metadata)
    rt = context.build(settings_mod.load(environ={}, var_dir=var, database_url=db_url))
    context.install(rt)
    _Base.metadata.create_all(rt.engine)
    with rt.sessions.begin() as s:
        s.add(Person(id=1, name="李四"))
    old_key = rt.settings.data_key

    result = CliRunner().invoke(keys_cli.cli, ["rotate-data-key", "--new-dev-key"])
    assert result.exit_code == 0, result.output
    assert "may now be removed" in result.output
    s2 = settings_mod.load(environ={}, var_dir=var, database_url=db_url)
    assert s2.data_key != old_key and s2.data_key_previous == (old_key,)
    assert (var / "secrets/data.key.previous").stat().st_mode & 0o077 == 0
    assert _all(context.current()) == [(1, "李四", None, None)]
    context.current().engine.dispose()
    context.install(None)


def test_value_rewritten_under_old_key_meanwhile_is_reported_then_fixed_by_rerun(people) -> None:
    """A process still on the old key writes behind the rotation: the report says so."""
    old = FieldCipher(OLD)

    def stale_writer(table: str, rows: int) -> None:
        with people.engine.begin() as c:
            c.execute(
                sa.text("UPDATE rotation_test_person SET name = :v WHERE id = 1"),
                {"v": old.encrypt("王五".encode(), "rotation_test_person.name")},
            )

    report = rotate_data_key(people, batch_size=10, metadata=_Base.metadata, on_batch=stale_writer)
    assert not report.done and report.remaining["rotation_test_person.name"] == 1
    assert rotate_data_key(people, batch_size=10, metadata=_Base.metadata).done
    assert _all(people)[0][1] == "王五"

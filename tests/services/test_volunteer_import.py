"""`volunteers import`: bad rows reported by line and column and skipped, good rows
imported, official volunteers with complete data ordered, re-import changes nothing."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.domain.errors import Invalid
from gateway.models import Card, CardEvent, Order, ServiceSession, TrainingRecord, Volunteer
from gateway.services import sample
from gateway.services.volunteer_import import COLUMNS, import_csv

NOW = datetime(2026, 11, 28, 4, tzinfo=UTC)


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sample")
    sample.generate(d, 16, seed=7, applicants=0.25)
    return d


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path


def counts(db) -> dict[str, int]:
    return {
        m.__tablename__: db.scalar(select(func.count()).select_from(m))
        for m in (Volunteer, Order, Card, CardEvent, TrainingRecord, ServiceSession)
    }


def test_bad_rows_reported_by_line_and_column_good_rows_imported(db, sample_dir) -> None:
    rows = rows_of(sample_dir / "volunteers.csv")
    rows[0]["mobile"] = "1381234567"  # line 2
    rows[2]["birth_date"] = "19901332"  # line 4
    rows[2]["opt_health"] = "yes"
    rows[5]["branch_code"] = "44099"  # line 7
    rows[6]["photo"] = "photos/missing.jpg"  # line 8
    rows[7]["photo"] = str(sample_dir / rows[7]["photo"])  # line 9: absolute
    report = import_csv(db, write(sample_dir / "bad.csv", rows), now=NOW)
    assert {(e.line, e.column) for e in report.errors} == {
        (2, "mobile"), (4, "birth_date"), (4, "opt_health"), (7, "branch_code"), (8, "photo"), (9, "photo")
    }  # fmt: skip
    assert "line:2:mobile:MOBILE not a mainland mobile number" in map(str, report.errors)
    assert report.skipped_lines == [2, 4, 7, 8, 9]
    assert report.created == 11 and db.scalar(select(func.count()).select_from(Volunteer)) == 11
    assert all(r["mobile"] not in str(e) for e in report.errors for r in rows)  # no value in a report


def test_official_volunteers_with_complete_data_get_a_new_order(db, sample_dir) -> None:
    rows = rows_of(sample_dir / "volunteers.csv")
    report = import_csv(db, sample_dir / "volunteers.csv", now=NOW)
    officials = [r for r in rows if r["volunteer_no"]]
    assert report.created == 16 and report.orders == len(officials) > 0
    orders = db.scalars(select(Order)).all()
    assert {o.status for o in orders} == {"PENDING"} and {o.order_type for o in orders} == {"NEW"}
    applicants = db.scalars(select(Volunteer).where(Volunteer.volunteer_no.is_(None))).all()
    assert len(applicants) == 16 - len(officials) and all(a.provisional_no for a in applicants)


def test_reimporting_the_same_file_changes_nothing(db, sample_dir) -> None:
    import_csv(db, sample_dir / "volunteers.csv", now=NOW)
    before = counts(db)
    stamps = db.execute(select(Volunteer.id, Volunteer.updated_at).order_by(Volunteer.id)).all()
    again = import_csv(db, sample_dir / "volunteers.csv", now=NOW)
    assert (again.created, again.updated, again.unchanged, again.orders) == (0, 0, 16, 0)
    assert counts(db) == before
    db.expire_all()
    assert db.execute(select(Volunteer.id, Volunteer.updated_at).order_by(Volunteer.id)).all() == stamps


def test_incomplete_official_is_imported_but_not_ordered(db, sample_dir) -> None:
    rows = rows_of(sample_dir / "volunteers.csv")[:1]
    rows[0].update(photo="", carrier="", volunteer_no="2999999999", official_since="20250101")
    report = import_csv(db, write(sample_dir / "nophoto.csv", rows), now=NOW)
    assert report.created == 1 and report.orders == 0
    ((line, no, problems),) = report.not_ordered
    assert (line, no) == (2, "2999999999") and {p.rule for p in problems} == {"PHOTO", "CARRIER"}


def test_number_of_another_person_and_duplicates_in_file_are_refused(db, sample_dir) -> None:
    rows = rows_of(sample_dir / "volunteers.csv")
    officials = [r for r in rows if r["volunteer_no"]][:2]
    import_csv(db, write(sample_dir / "one.csv", officials[:1]), now=NOW)
    clash = dict(officials[1], volunteer_no=officials[0]["volunteer_no"])
    report = import_csv(db, write(sample_dir / "clash.csv", [clash, officials[1], officials[1]]), now=NOW)
    assert [str(e) for e in report.errors] == [
        "line:2:volunteer_no:already belongs to another ID",
        "line:4:volunteer_no:duplicate of line 3",
    ]


def test_applicant_later_official_is_promoted_not_duplicated(db, sample_dir) -> None:
    row = dict(rows_of(sample_dir / "volunteers.csv")[0], volunteer_no="", official_since="")
    import_csv(db, write(sample_dir / "applicant.csv", [row]), now=NOW)
    report = import_csv(
        db,
        write(sample_dir / "approved.csv", [dict(row, volunteer_no="2888888888", official_since="20261101")]),
        now=NOW,
    )
    assert (report.created, report.updated, report.orders) == (0, 1, 1)
    assert db.scalar(select(func.count()).select_from(Volunteer)) == 1


def test_missing_columns_refuse_the_file(db, tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("volunteer_no,name\n1,2\n", encoding="utf-8")
    with pytest.raises(Invalid) as info:
        import_csv(db, path, now=NOW)
    assert info.value.code == "HEADER" and "id_type" in info.value.message


def test_file_not_utf8_names_the_line(db, tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((",".join(COLUMNS) + "\n").encode() + "2000000001,张三\n".encode("gb18030"))
    with pytest.raises(Invalid) as info:
        import_csv(db, path, now=NOW)
    assert info.value.code == "NOT_UTF8" and "x.csv:2:" in info.value.message


@pytest.mark.parametrize(
    "header,reason",
    [
        ([*COLUMNS, "notes"], "unknown columns notes"),
        ([*COLUMNS, "mobile"], "columns given twice mobile"),
    ],
)
def test_unknown_or_repeated_columns_refuse_the_file(db, sample_dir, tmp_path, header, reason) -> None:
    # An unknown column would be dropped without a word; a repeated one would silently
    # take the value of its last copy. Either loses data, so the file is refused whole.
    rows = rows_of(sample_dir / "volunteers.csv")
    path = tmp_path / "x.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([[r[c] for c in COLUMNS] + ["extra"] for r in rows])
    with pytest.raises(Invalid) as info:
        import_csv(db, path, now=NOW)
    assert info.value.code == "HEADER" and f"x.csv:1:header:{reason}" in info.value.message
    assert counts(db)["volunteers"] == 0


def test_row_with_fewer_cells_is_one_record_error(db, sample_dir) -> None:
    rows = rows_of(sample_dir / "volunteers.csv")
    path = sample_dir / "fewer.csv"  # beside the photos it names
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerow([rows[0][c] for c in COLUMNS][:5])
        w.writerows([[r[c] for c in COLUMNS] for r in rows[1:]])
    report = import_csv(db, path, now=NOW)
    assert [str(e) for e in report.errors] == ["line:2:record:fewer fields than the header"]
    assert report.created == len(rows) - 1


def test_photo_outside_the_csv_folder_is_refused(db, sample_dir, tmp_path) -> None:
    # The photo column names a file beside the CSV; a path climbing out of its folder
    # (here to a real JPEG) is a row error, so an import reads nothing else on the host.
    rows = rows_of(sample_dir / "volunteers.csv")
    sub = sample_dir / "batch"
    sub.mkdir(exist_ok=True)
    rows[0]["photo"] = "../" + rows[0]["photo"]
    report = import_csv(db, write(sub / "up.csv", rows[:1]), now=NOW)
    assert [str(e) for e in report.errors] == ["line:2:photo:must be a path inside the CSV's folder"]

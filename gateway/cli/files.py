"""`svcard files check` and `svcard files sample`: plain partner files by hand.

``check`` validates an unsealed file (a text file, or a CARDORDER ``.zip`` package) with
exactly the reader the exchanges use; exit status 0 valid, 1 record errors, 2 whole-file
invalid. ``sample`` writes a valid synthetic file (deterministic for a seed).
"""

from __future__ import annotations

import csv
import os
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import click

from gateway.timeutil import beijing_today
from schemas import TYPES, FileError, RecordError, read, read_package
from schemas.samples import write_sample

BRANCHES_CSV = Path(__file__).resolve().parent.parent / "data" / "branches.csv"


def project_branches() -> frozenset[str]:
    """The branch codes of the project's copy of branches.csv (gateway/data)."""
    with BRANCHES_CSV.open(encoding="utf-8") as f:
        return frozenset(row["branch_code"] for row in csv.DictReader(f))


@click.group("files")
def cli() -> None:
    """Partner files: check one, or write a synthetic one."""


@cli.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Name the file arrived under (default: the path's base name).")
@click.option("--sender", help="Party the channel says sent it (a mismatch is E05).")
@click.option("--receiver", help="Party the channel says it is for (a mismatch is E05).")
def check(path: Path, name: str | None, sender: str | None, receiver: str | None) -> None:
    """Validate a plain (unsealed) partner file; print a summary and every error."""
    name = name or path.name
    kwargs = {"file_name": name, "sender": sender, "receiver": receiver}
    branches = project_branches()
    if name.endswith(".zip") or zipfile.is_zipfile(path):
        reader = read_package(path, branches=branches, **kwargs)
    else:
        reader = read(path, branches=branches, **kwargs)
    try:
        for item in reader:
            if isinstance(item, RecordError):
                click.echo(str(item))
    except FileError as exc:
        where = f" at line {exc.line}" if exc.line else ""
        click.echo(f"{name}: INVALID {exc.code} {exc.reason}{where}")
        sys.exit(2)
    finally:
        reader.close()
    h, s = reader.header, reader.summary
    assert h is not None and s is not None
    click.echo(
        f"{name}: {h.file_type} {h.sender}->{h.receiver} business date "
        f"{h.business_date:%Y%m%d} SEQ {h.seq:03d}: {s.count} records, "
        f"{s.good_records} valid, {s.bad_records} with errors ({s.error_count} errors), "
        f"control sum {s.control_sum}"
    )
    sys.exit(1 if s.error_count else 0)


def _yyyymmdd(ctx: click.Context, param: click.Parameter, value: str | None) -> date:
    if value is None:  # business dates are Beijing dates, whatever the machine's zone
        return beijing_today()
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise click.BadParameter("not YYYYMMDD") from None


@cli.command("sample")
@click.argument("file_type", type=click.Choice(sorted(TYPES)))
@click.option("--records", "n", type=click.IntRange(0), required=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--date", "business_date", callback=_yyyymmdd, help="Business date YYYYMMDD.")
@click.option("--seq", type=click.IntRange(1, 999), default=1, show_default=True)
@click.option(
    "--out",
    type=click.Path(writable=True, path_type=Path),
    help="Write to this file, or into this directory under the partner file name; default stdout.",
)
def sample(file_type: str, n: int, seed: int, business_date: date, seq: int, out: Path | None) -> None:
    """Write a valid synthetic FILE_TYPE file (GB18030; a ZIP for CARDORDER).

    The file's partner name is printed on stderr: `files check` checks the name too."""
    if out is not None and out.is_dir():
        # The name is known once written (the writer names it); land it whole under it.
        part = out / f".sample-{os.getpid()}.part"
        with open(part, "wb") as f:
            result = write_sample(f, file_type, n, seed=seed, business_date=business_date, seq=seq)
        part.replace(out / result.file_name)
    elif out is not None:
        with open(out, "wb") as f:
            result = write_sample(f, file_type, n, seed=seed, business_date=business_date, seq=seq)
    else:
        stream = sys.stdout.buffer
        if file_type == "CARDORDER" and stream.isatty():
            raise click.UsageError("CARDORDER is a ZIP: use --out or redirect stdout")
        result = write_sample(stream, file_type, n, seed=seed, business_date=business_date, seq=seq)
        stream.flush()
    click.echo(f"{result.file_name}: {result.count} records", err=True)

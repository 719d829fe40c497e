"""The inbound half of the exchange engine, up to a stored file: list the partner's
outbox; a name already stored is skipped; a stored name whose size changed is held for an
operator; a new name is downloaded and archived, and if its bytes match a stored file it
is a duplicate (E06). Applying a stored file is ``apply``'s part."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.db import transaction
from gateway.models.exchange import ExchangeFile
from gateway.services import archive
from gateway.services.alerts import raise_alert
from gateway.services.exchange.acks import owe_ack
from gateway.services.exchange.spool import spool
from gateway.services.ports import Ports
from gateway.settings import OUR_ID
from gateway.timeutil import beijing_today
from schemas.reader import NAME_RE


@dataclass
class FetchReport:
    new: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    skipped: int = 0


def fetch(ports: Ports, partner: str) -> FetchReport:
    """Download what is new in the partner's outbox (partners/README.md, "Transport, SFTP")."""
    report = FetchReport()
    with ports.file_transport(partner) as transport:
        listing = transport.list_outbox()
        with transaction(ports.sessions) as session:
            stored = {
                f.name: f
                for f in session.scalars(
                    select(ExchangeFile).where(
                        ExchangeFile.partner == partner, ExchangeFile.direction == "in"
                    )
                )
            }
            known = {n: (f.size, f.detail or "") for n, f in stored.items()}
        for remote in sorted(listing, key=lambda r: r.name):
            if remote.name in known:
                size, detail = known[remote.name]
                # Held once per new size: the partner keeps the file for 30 days, and an
                # operator who dealt with the alert must not get it back at every fetch.
                if size is not None and remote.size != size and _reuse_note(remote.size) not in detail:
                    _hold_changed_name(ports, partner, remote.name, remote.size)
                    report.held.append(remote.name)
                else:
                    report.skipped += 1
                continue
            got = transport.download(remote.name, spool(ports, "in", partner))
            recorded = record_download(ports, partner, remote.name, got.path, got.sha256, got.size)
            if recorded is None:  # another worker fetching this outbox recorded it first
                report.skipped += 1
                continue
            file_id, duplicate = recorded
            (report.duplicates if duplicate else report.new).append(file_id)
    return report


def _reuse_note(new_size: int) -> str:
    return f"the partner's outbox now holds other bytes under this name ({new_size} bytes)"


def _hold_changed_name(ports: Ports, partner: str, name: str, new_size: int) -> None:
    """The stored file keeps its status and what it applied; the note is added to its
    detail (an earlier rejection reason stays) and an operator is alerted."""
    with transaction(ports.sessions) as session:
        row = session.scalar(
            select(ExchangeFile).where(
                ExchangeFile.partner == partner, ExchangeFile.direction == "in", ExchangeFile.name == name
            )
        )
        row.detail = "; ".join(x for x in (row.detail, _reuse_note(new_size)) if x)
        raise_alert(
            session,
            "file_name_reused",
            partner,
            f"{name}: stored name now has different bytes; held for an operator",
            subject=name,
        )


def _parse_name(name: str) -> tuple[str | None, str | None, date | None, int | None]:
    m = NAME_RE.fullmatch(name)
    if not m:
        return None, None, None, None
    try:
        d = datetime.strptime(m["date"], "%Y%m%d").date()
    except ValueError:
        d = None
    return m["type"], m["sender"], d, int(m["seq"])


def record_download(
    ports: Ports, partner: str, name: str, path: Path, sha256: str, size: int
) -> tuple[int, bool] | None:
    """Store a downloaded file: a new original, or a duplicate of stored bytes (E06);
    (file id, duplicate).

    None when another worker fetching the same outbox recorded this name meanwhile: the
    unique name (and, for an original, the unique content key) decides which worker owns
    the file, so two fetches at once never record it twice nor call one copy a duplicate
    of the other."""
    ftype, sender, bdate, seq = _parse_name(name)
    raw = archive.store_raw(ports.settings, partner, bdate or beijing_today(), name, path)
    for _attempt in range(3):
        try:
            with transaction(ports.sessions) as session:
                taken = session.scalar(
                    select(ExchangeFile.id).where(
                        ExchangeFile.partner == partner,
                        ExchangeFile.direction == "in",
                        ExchangeFile.name == name,
                    )
                )
                if taken is not None:
                    return None
                same_bytes = session.scalar(
                    select(ExchangeFile).where(ExchangeFile.content_key == f"{partner}|{sha256}")
                )
                row = ExchangeFile(
                    partner=partner,
                    direction="in",
                    file_type=ftype,
                    name=name,
                    sender=sender,
                    receiver=OUR_ID,
                    business_date=bdate,
                    seq=seq,
                    size=size,
                    sha256=sha256,
                    raw_path=raw.path,
                    status="received",
                )
                if same_bytes is not None:
                    row.status, row.duplicate_of_id = "duplicate", same_bytes.id
                    row.detail = f"same bytes as {same_bytes.name}"
                    owe_ack(row, "REJECTED", "E06", "duplicate of a file already received")
                else:
                    row.content_key = f"{partner}|{sha256}"
                session.add(row)
                session.flush()
                return row.id, same_bytes is not None
        except IntegrityError:
            # A concurrent fetch inserted this name, or these bytes under another name,
            # between our look and our insert: look again, now that its row is committed.
            continue
    raise RuntimeError(f"{partner} {name}: could not record the download")

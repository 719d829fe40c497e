"""Daily sweeps and the missing-file watch raise one alert per subject, however often run."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from gateway.models.exchange import Alert, ExchangeFile
from jobs import exchange as exchange_jobs
from jobs import sweeps


def _alerts(session, kind):
    return session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == kind))


def _file(partner, direction, name, status, **more):
    """An exchange file row; its type is the first part of its name."""
    file_type = name.split("_", 1)[0]
    return ExchangeFile(
        partner=partner, direction=direction, file_type=file_type, name=name, status=status, **more
    )


def test_missing_ack_after_one_working_day_alerts_once(runtime, session):
    # Sent Friday 8 January 2027; Monday 11 January is the next working day.
    sent_at = datetime(2027, 1, 7, 17, 0, tzinfo=UTC)
    session.add(_file("BOCSZ", "out", "CARDREQ_SVA_20270108_001.txt.p7m", "sent", sent_at=sent_at))
    session.commit()
    assert sweeps.missing_acks("2027-01-11") == 0  # still within the working day allowed
    assert sweeps.missing_acks("2027-01-12") == 1
    sweeps.missing_acks("2027-01-12")
    assert _alerts(session, "ack_missing") == 1


def test_expected_bank_files_missing_raise_one_alert_each(runtime, session):
    name = "CARDSTATUS_BOCSZ_20270111_001.txt.p7m"
    session.add(_file("BOCSZ", "in", name, "processed", business_date=date(2027, 1, 11)))
    session.commit()
    missing = exchange_jobs.check_expected("BOCSZ", "2027-01-12")
    assert missing == ["CARDRESULT for 20270111", "SWIPE for 20270111"]
    exchange_jobs.check_expected("BOCSZ", "2027-01-12")
    assert _alerts(session, "file_missing") == 2
    # Sunday 10 January is no working day: no CARDRESULT is expected for it
    assert "CARDRESULT for 20270110" not in exchange_jobs.check_expected("BOCSZ", "2027-01-11")


def test_a_file_not_uploaded_and_an_ack_not_sent_alert_once(runtime, session):
    """A file prepared but not uploaded an hour later (the upload keeps failing), and a
    partner's file whose ACK we still owe after a day, go to an operator."""
    session.add_all(
        [
            _file("SZT", "out", "TRANSITREQ_SVA_20270112_001.txt.p7m", "prepared",
                  created_at=datetime(2027, 1, 11, 18, 0, tzinfo=UTC)),
            _file("SZT", "in", "TRANSITACK_SZT_20270112_001.txt.p7m", "processed", ack_status="ACCEPTED",
                  created_at=datetime(2027, 1, 11, 23, 0, tzinfo=UTC)),
            # an unanswered roster is superseded by the next day's, not resent
            _file("BOCINS", "out", "INSROSTER_SVA_20270111_001.txt.p7m", "prepared",
                  created_at=datetime(2027, 1, 10, 19, 0, tzinfo=UTC)),
        ]
    )  # fmt: skip
    session.commit()
    assert sweeps.unsent_files(now=datetime(2027, 1, 11, 18, 30, tzinfo=UTC)) == 0
    assert sweeps.unsent_files(now=datetime(2027, 1, 11, 19, 30, tzinfo=UTC)) == 1  # not uploaded
    assert sweeps.unsent_files(now=datetime(2027, 1, 12, 23, 30, tzinfo=UTC)) == 2  # + the ACK owed
    assert _alerts(session, "file_not_uploaded") == 1 and _alerts(session, "ack_not_sent") == 1


def test_service_level_alerts_close_once_the_order_is_no_longer_late(runtime, session):
    # An alert raised yesterday for an order that has since had its result.
    session.add(
        Alert(
            kind="order_overdue",
            partner="BOCSZ",
            subject="N2611010000001ABCDEFG:PRODUCED:late",
            message="order N2611010000001ABCDEFG: PRODUCED was due 20261120",
        )
    )
    session.commit()
    assert sweeps.service_levels("2026-11-25") == {"overdue": 0, "due_soon": 0}
    session.expire_all()
    (alert,) = session.scalars(select(Alert).where(Alert.kind == "order_overdue")).all()
    assert alert.resolved_at is not None and "resolved by the sweep of 20261125" in alert.message


def test_finding_9_next_years_calendar_not_loaded_alerts_from_1_december(runtime, session):
    from click.testing import CliRunner

    from gateway import timeutil
    from gateway.cli.calendar import cli as calendar_cli
    from gateway.services import calendar as cal_service
    from gateway.timeutil import BEIJING

    year = 2031  # beyond every seeded year: not loaded in a fresh database
    assert sweeps.calendar_next_year(f"{year - 1}-11-30") is None  # not yet December
    warning = sweeps.calendar_next_year(f"{year - 1}-12-01")
    assert warning is not None and f"the {year} working-day calendar is not loaded" in warning
    sweeps.daily(f"{year - 1}-12-02")  # the daily sweep runs it: still one open alert
    assert _alerts(session, "calendar_next_year") == 1
    alert = session.scalar(select(Alert).where(Alert.kind == "calendar_next_year"))
    assert alert.subject == f"calendar:{year}" and alert.resolved_at is None
    timeutil.travel_to(datetime(year - 1, 12, 7, 9, tzinfo=BEIJING))
    try:
        out = CliRunner().invoke(calendar_cli, ["status"])
        assert out.exit_code == 1
        assert (
            f"{year}: PROVISIONAL" in out.output and f"WARNING: the {year} working-day calendar" in out.output
        )
        rows = [cal_service.CalendarRow(date(year, 1, 1), False, "New Year's Day")]
        cal_service.load_year(session, year, rows, source="file test.csv", actor="op")
        session.commit()
        out = CliRunner().invoke(calendar_cli, ["status"])
        assert out.exit_code == 0 and f"{year}: loaded from file test.csv" in out.output
    finally:
        timeutil.reset_clock()
    session.expire_all()
    assert alert.resolved_at is not None
    assert sweeps.calendar_next_year(f"{year - 1}-12-08") is None


def _runbook_example() -> str:
    """The load file shown in docs/runbook.md, "Loading next year's working-day calendar"."""
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "runbook.md").read_text(encoding="utf-8")
    section = text.split("## Loading next year's working-day calendar", 1)[1].split("\n## ", 1)[0]
    block = next(b for b in section.split("```")[1::2] if b.strip().startswith("date,kind,name"))
    return "\n".join(line.strip() for line in block.strip().splitlines()) + "\n"


def test_finding_9_on_7_december_2026_a_fresh_system_has_the_2027_alert_open(runtime, session, tmp_path):
    """Today (Monday 7 December 2026, after the 07:30 sweep) on a fresh system: the
    ``holidays`` package has no published 2027 schedule, so seeding leaves 2027 provisional
    and opens the alert at once; the daily sweep keeps that one alert; loading 2027 closes it."""
    from click.testing import CliRunner

    from gateway import timeutil
    from gateway.cli.calendar import cli as calendar_cli
    from gateway.timeutil import BEIJING

    def open_alerts():
        session.expire_all()
        return session.scalars(
            select(Alert).where(Alert.kind == "calendar_next_year", Alert.resolved_at.is_(None))
        ).all()

    runner = CliRunner()
    timeutil.travel_to(datetime(2026, 12, 7, 20, 30, tzinfo=BEIJING))
    try:
        out = runner.invoke(calendar_cli, ["status"])  # nothing loaded at all yet
        assert out.exit_code == 1, out.output
        assert "2027: PROVISIONAL" in out.output and "not raised yet" in out.output
        out = runner.invoke(calendar_cli, ["seed"])
        assert out.exit_code == 0, out.output
        # (the alert's log line may come first, when an earlier test left a stderr handler)
        (seeded,) = [ln for ln in out.output.splitlines() if ln.startswith("seeded:")]
        assert "2026" in seeded and "2027" not in seeded
        assert "WARNING: the 2027 working-day calendar is not loaded" in out.output
        (alert,) = open_alerts()  # open now, before any sweep
        assert (alert.subject, alert.partner) == ("calendar:2027", None)
        assert "svcard calendar load 2027" in alert.message and "docs/runbook.md" in alert.message
        assert sweeps.daily()["calendar_next_year"] is not None  # today's sweep: still that one
        assert [a.id for a in open_alerts()] == [alert.id]
        out = runner.invoke(calendar_cli, ["status"])
        assert out.exit_code == 1, out.output
        assert "2026: loaded from holidays" in out.output and "2027: PROVISIONAL" in out.output
        assert "WARNING: the 2027 working-day calendar is not loaded" in out.output
        assert "alert calendar_next_year open since 2026-12-07" in out.output
        csv = tmp_path / "calendar-2027.csv"  # the runbook's example, as an operator would copy it
        csv.write_text(_runbook_example(), encoding="utf-8")
        out = runner.invoke(calendar_cli, ["load", "2027", str(csv), "--actor", "op"])
        assert out.exit_code == 0, out.output
        assert open_alerts() == []
        out = runner.invoke(calendar_cli, ["status"])
        assert out.exit_code == 0 and "2027: loaded from file calendar-2027.csv by op" in out.output
        assert "WARNING" not in out.output
        assert sweeps.daily()["calendar_next_year"] is None and open_alerts() == []
    finally:
        timeutil.reset_clock()

"""Daily sweeps and the missing-file watch raise one alert per subject, however often run."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from gateway.models.exchange import Alert, ExchangeFile
from jobs import exchange as exchange_jobs
from jobs import sweeps


def _alerts(session, kind):
    return session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == kind))


def test_missing_ack_after_one_working_day_alerts_once(runtime, session):
    # Sent Friday 8 January 2027; Monday 11 January is the next working day.
    session.add(
        ExchangeFile(
            partner="BOCSZ",
            direction="out",
            file_type="CARDREQ",
            name="CARDREQ_SVA_20270108_001.txt.p7m",
            status="sent",
            sent_at=datetime(2027, 1, 7, 17, 0, tzinfo=UTC),
        )
    )
    session.commit()
    assert sweeps.missing_acks("2027-01-11") == 0  # still within the working day allowed
    assert sweeps.missing_acks("2027-01-12") == 1
    sweeps.missing_acks("2027-01-12")
    assert _alerts(session, "ack_missing") == 1


def test_expected_bank_files_missing_raise_one_alert_each(runtime, session):
    session.add(
        ExchangeFile(
            partner="BOCSZ",
            direction="in",
            file_type="CARDSTATUS",
            name="CARDSTATUS_BOCSZ_20270111_001.txt.p7m",
            status="processed",
            business_date=date(2027, 1, 11),
        )
    )
    session.commit()
    missing = exchange_jobs.check_expected("BOCSZ", "2027-01-12")
    assert missing == ["CARDRESULT for 20270111", "SWIPE for 20270111"]
    exchange_jobs.check_expected("BOCSZ", "2027-01-12")
    assert _alerts(session, "file_missing") == 2
    # Sunday 10 January is no working day: no CARDRESULT is expected for it
    assert "CARDRESULT for 20270110" not in exchange_jobs.check_expected("BOCSZ", "2027-01-11")

"""Sessions and training from terminals (gateway.services.terminal_swipes) on real rows,
SQLite and PostgreSQL: the place a session takes, the card rules, the one-day and overlap
rules, the repeated swipe. Over HTTP: tests/api/test_service.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.errors import Conflict, DomainError
from gateway.domain.lifecycle import CardEventType as E
from gateway.models import TerminalSwipe
from gateway.services import terminal_swipes as ts
from gateway.services import terminals
from gateway.services import volunteers as vs
from tests.services.foundation_helpers import drive, first_card, official

T0 = datetime(2026, 12, 1, 1, tzinfo=UTC)  # 09:00 Beijing
NOW = datetime(2026, 12, 7, 4, tzinfo=UTC)


@pytest.fixture
def terminal(db):
    return terminals.create_terminal(
        db,
        terminals.TerminalData("POS-FT-0001", "福田区义工联", "福田区", site_name="市民中心",
                               latitude=22.5431, longitude=114.0579),
        actor="test",
    )  # fmt: skip


_cards = iter(range(100, 10**6))


def card_in_use(db, *events: E):
    v = official(db)
    card = first_card(v)
    drive(
        db,
        card,
        E.ACCEPTED,
        E.PRODUCED,
        E.NOTIFIED,
        *(events or (E.COLLECTED,)),
        card_id=f"CARD{next(_cards):012d}",
    )
    return v, card


def code_of(call) -> str:
    with pytest.raises(DomainError) as info:
        call()
    return info.value.code


def test_a_card_swipe_at_a_terminal_opens_and_closes_a_session_with_its_district(db, terminal) -> None:
    v, card = card_in_use(db)
    opened = ts.check_in(
        db, ts.Swipe(T0, card_id=card.card_id, terminal_id="POS-FT-0001"), actor="t", now=NOW
    )
    s = opened.record
    assert (s.district, s.terminal_id, s.site, s.check_out) == ("440304", "POS-FT-0001", "市民中心", None)
    closed = ts.check_out(
        db,
        ts.Swipe(T0 + timedelta(hours=3), card_id=card.card_id, terminal_id="POS-FT-0001"),
        actor="t",
        now=NOW,
    )
    assert closed.record.id == s.id and s.minutes == 180 and not closed.repeated
    assert db.query(TerminalSwipe).filter_by(volunteer_id=v.id).count() == 2


def test_the_platform_gives_the_district_or_outside_and_must_give_one(db) -> None:
    v = official(db)
    no = v.volunteer_no
    outside = ts.check_in(db, ts.Swipe(T0, volunteer_no=no, district="OUTSIDE"), actor="t", now=NOW).record
    assert (outside.district, outside.terminal_id, outside.site) == ("OUTSIDE", None, None)
    ts.check_out(db, ts.Swipe(T0 + timedelta(hours=1), volunteer_no=no), actor="t", now=NOW)
    assert (
        code_of(
            lambda: ts.check_in(db, ts.Swipe(T0 + timedelta(hours=2), volunteer_no=no), actor="t", now=NOW)
        )
        == "PLACE_REQUIRED"
    )
    assert code_of(lambda: ts.check_in(db, ts.Swipe(T0 + timedelta(hours=2), volunteer_no=no, district="东莞"), actor="t", now=NOW)) == "UNKNOWN_DISTRICT"  # fmt: skip


def test_the_platform_may_override_a_terminals_district_and_then_not_its_site(db, terminal) -> None:
    """A terminal taken to an event elsewhere: the platform says where it is."""
    v = official(db)
    s = ts.check_in(
        db,
        ts.Swipe(T0, volunteer_no=v.volunteer_no, terminal_id="POS-FT-0001", district="南山区"),
        actor="t",
        now=NOW,
    ).record
    assert (s.district, s.terminal_id, s.site) == ("440305", "POS-FT-0001", None)


@pytest.mark.parametrize(
    ("events", "code"),
    [
        ((E.COLLECTED, E.LOST_REPORTED), "CARD_LOST"),
        ((E.CUT_CLOSED,), "CARD_CLOSED"),  # never collected: cut at the branch
        ((E.COLLECTED, E.ACCOUNT_CLOSED), "CARD_CLOSED"),
        ((), "CARD_NOT_COLLECTED"),
    ],
)
def test_a_lost_cut_or_uncollected_card_cannot_start_a_session(db, terminal, events, code) -> None:
    v = official(db)
    card = first_card(v)
    drive(db, card, E.ACCEPTED, E.PRODUCED, E.NOTIFIED, *events, card_id=f"CARD{next(_cards):012d}")
    swipe = ts.Swipe(T0, card_id=card.card_id, terminal_id="POS-FT-0001")
    assert code_of(lambda: ts.check_in(db, swipe, actor="t", now=NOW)) == code
    assert (
        code_of(lambda: ts.record_training(db, swipe, course="first aid", minutes=60, actor="t", now=NOW))
        == code
    )
    assert vs.open_session(db, v) is None


def test_a_card_reported_lost_on_the_platform_cannot_start_or_end_a_session(db, terminal) -> None:
    v, card = card_in_use(db)
    ts.check_in(db, ts.Swipe(T0, card_id=card.card_id, terminal_id="POS-FT-0001"), actor="t", now=NOW)
    vs.report_loss(db, v.volunteer_no, at=T0 + timedelta(minutes=30), actor="t", card_id=card.card_id)
    out = ts.Swipe(T0 + timedelta(hours=1), card_id=card.card_id, terminal_id="POS-FT-0001")
    assert code_of(lambda: ts.check_out(db, out, actor="t", now=NOW)) == "CARD_LOST"
    # the platform still closes it by the volunteer's number
    assert (
        ts.check_out(db, ts.Swipe(out.at, volunteer_no=v.volunteer_no), actor="t", now=NOW).record.minutes
        == 60
    )


def test_a_card_closed_during_the_session_still_checks_out(db, terminal) -> None:
    v, card = card_in_use(db)
    ts.check_in(db, ts.Swipe(T0, card_id=card.card_id, terminal_id="POS-FT-0001"), actor="t", now=NOW)
    drive(db, card, E.ACCOUNT_CLOSED, card_id=card.card_id)
    out = ts.check_out(db, ts.Swipe(T0 + timedelta(hours=2), card_id=card.card_id, terminal_id="POS-FT-0001"), actor="t", now=NOW)  # fmt: skip
    assert out.record.minutes == 120


def test_one_open_session_and_the_check_out_rules(db, terminal) -> None:
    v, card = card_in_use(db)
    at = ts.Swipe(T0, card_id=card.card_id)
    ts.check_in(db, ts.Swipe(T0, card_id=card.card_id, district="福田区"), actor="t", now=NOW)
    again = ts.Swipe(T0 + timedelta(hours=1), card_id=card.card_id, district="福田区")
    assert code_of(lambda: ts.check_in(db, again, actor="t", now=NOW)) == "SESSION_OPEN"
    assert code_of(lambda: ts.check_out(db, at, actor="t", now=NOW)) == "CHECK_OUT_BEFORE_CHECK_IN"
    late = ts.Swipe(T0 + timedelta(days=1, minutes=1), card_id=card.card_id)
    assert code_of(lambda: ts.check_out(db, late, actor="t", now=NOW)) == "SESSION_TOO_LONG"
    ts.check_out(db, ts.Swipe(T0 + timedelta(days=1), card_id=card.card_id), actor="t", now=NOW)
    assert code_of(lambda: ts.check_out(db, late, actor="t", now=NOW)) == "NO_OPEN_SESSION"


def test_a_late_upload_inside_a_recorded_session_is_refused(db) -> None:
    v = official(db)
    no = v.volunteer_no
    ts.check_in(db, ts.Swipe(T0, volunteer_no=no, district="440305"), actor="t", now=NOW)
    ts.check_out(db, ts.Swipe(T0 + timedelta(hours=3), volunteer_no=no), actor="t", now=NOW)
    inside = ts.Swipe(T0 + timedelta(hours=1), volunteer_no=no, district="440305")
    assert code_of(lambda: ts.check_in(db, inside, actor="t", now=NOW)) == "SESSION_OVERLAP"
    # one that began before it cannot end after its start either
    ts.check_in(db, ts.Swipe(T0 - timedelta(hours=2), volunteer_no=no, district="440305"), actor="t", now=NOW)
    over = ts.Swipe(T0 + timedelta(hours=4), volunteer_no=no)
    assert code_of(lambda: ts.check_out(db, over, actor="t", now=NOW)) == "SESSION_OVERLAP"
    ts.check_out(db, ts.Swipe(T0 - timedelta(hours=1), volunteer_no=no), actor="t", now=NOW)


def test_a_swipe_repeated_within_a_minute_is_the_same_swipe(db, terminal) -> None:
    v, card = card_in_use(db)
    first = ts.check_in(db, ts.Swipe(T0, card_id=card.card_id, terminal_id="POS-FT-0001"), actor="t", now=NOW)
    again = ts.check_in(db, ts.Swipe(T0 + timedelta(seconds=40), card_id=card.card_id, terminal_id="POS-FT-0001"), actor="t", now=NOW)  # fmt: skip
    assert again.repeated and again.record.id == first.record.id
    # by number at the same terminal: the same volunteer, so the same swipe
    by_no = ts.check_in(db, ts.Swipe(T0 + timedelta(seconds=50), volunteer_no=v.volunteer_no, terminal_id="POS-FT-0001"), actor="t", now=NOW)  # fmt: skip
    assert by_no.repeated
    # later than a minute, or at another terminal: a swipe of its own, refused
    terminals.create_terminal(db, terminals.TerminalData("POS-NS-0001", "南山区义工联", "440305"), actor="t")
    for other in (
        ts.Swipe(T0 + timedelta(seconds=61), card_id=card.card_id, terminal_id="POS-FT-0001"),
        ts.Swipe(T0 + timedelta(seconds=10), card_id=card.card_id, terminal_id="POS-NS-0001"),
    ):
        with pytest.raises(Conflict):
            ts.check_in(db, other, actor="t", now=NOW)
    out = ts.Swipe(T0 + timedelta(hours=2), card_id=card.card_id, terminal_id="POS-FT-0001")
    ts.check_out(db, out, actor="t", now=NOW)
    assert ts.check_out(db, out, actor="t", now=NOW).repeated  # not NO_OPEN_SESSION
    assert db.query(TerminalSwipe).filter_by(volunteer_id=v.id).count() == 2


def test_training_from_a_terminal_takes_its_place_and_date(db, terminal) -> None:
    v, card = card_in_use(db)
    swipe = ts.Swipe(datetime(2026, 12, 1, 17, tzinfo=UTC), card_id=card.card_id, terminal_id="POS-FT-0001")
    row = ts.record_training(db, swipe, course="first aid", minutes=90, actor="t", now=NOW).record
    assert (row.district, row.terminal_id, row.minutes, str(row.held_on)) == (
        "440304",
        "POS-FT-0001",
        90,
        "2026-12-02",
    )
    assert (
        ts.record_training(db, swipe, course="first aid", minutes=90, actor="t", now=NOW).record.id == row.id
    )


def test_terminal_and_instant_and_who_are_checked(db, terminal) -> None:
    v, card = card_in_use(db)
    no = v.volunteer_no
    assert code_of(lambda: ts.check_in(db, ts.Swipe(T0, volunteer_no=no, terminal_id="POS-XX-9"), actor="t", now=NOW)) == "TERMINAL_NOT_FOUND"  # fmt: skip
    terminals.update_terminal(db, "POS-FT-0001", {"active": False}, actor="t")
    assert code_of(lambda: ts.check_in(db, ts.Swipe(T0, volunteer_no=no, terminal_id="POS-FT-0001"), actor="t", now=NOW)) == "TERMINAL_INACTIVE"  # fmt: skip
    assert code_of(lambda: ts.check_in(db, ts.Swipe(NOW + timedelta(minutes=6), volunteer_no=no, district="440304"), actor="t", now=NOW)) == "SWIPE_IN_FUTURE"  # fmt: skip
    assert code_of(lambda: ts.check_in(db, ts.Swipe(T0, card_id="CARD999999999999", district="440304"), actor="t", now=NOW)) == "CARD_NOT_FOUND"  # fmt: skip
    assert code_of(lambda: ts.check_in(db, ts.Swipe(T0, card_id=card.card_id, volunteer_no=no, district="440304"), actor="t", now=NOW)) == "CARD_OR_NUMBER"  # fmt: skip

"""The sandbox bank (BOCSZ) back office, as bank.md describes it, on a simulated clock.

Each business date ``d`` (``run_day(d)``; see :mod:`sandbox.office`):

* **intake**: every new CARDORDER / CARDREQ / ACK in ``inbox/`` is opened and checked; the
  data files are acknowledged in one ACK (record errors → ``PARTIAL``/``E07``, never
  answered in CARDRESULT). Each good order is audited at once (R01–R05 at the rates of
  :class:`BankRates`; R03 only for a volunteer who really has a live card or an open
  order, never for ``RENEW``; R06 for a ``RENEW`` of a card the bank does not know) and its
  dates are drawn: audit result, ``PRODUCED`` within the 15-working-day service level,
  ``NOTIFIED`` within 20 (a few late, at ``late_rate``). Day 0 is the intake date.
  ``LOSS_REPORT`` → ``LOST_REPORTED`` (channel ``PLATFORM``) that day; ``CANCEL_ORDER`` →
  ``REJECTED``/``R07`` if the card is not yet produced, otherwise nothing (the card goes on).
* **close**: the planned events of the day happen (audit results, production, notice,
  collection, reminders, cut-and-close, losses, reissues, expiry, account closures), and
  the day's files are written: CARDRESULT on working days (:mod:`sandbox.clock`), CARDSTATUS and SWIPE
  (the day's transactions of collected live cards) every day.

Every random choice is drawn from a generator seeded by (seed, what, id), so a run is
reproducible whatever the order of processing. State lives in ``bocsz.sqlite`` beside the
partner folder.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sandbox.bank_rates import BankRates
from sandbox.bank_swipes import day_swipes
from sandbox.clock import (
    add_months_clamped,
    add_working_days,
    at,
    is_working_day,
    month_end,
    next_working_day,
)
from sandbox.office import Office
from sandbox.wire import Received

PAN_PREFIX = "621785"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
REASON_TEXT = {
    "R01": "identity check failed",
    "R02": "photo unusable",
    "R03": "volunteer already has a live card",
    "R04": "branch closed",
    "R05": "credit declined",
    "R06": "data inconsistent with bank records",
    "R07": "cancelled on request",
}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY, order_type TEXT, volunteer_no TEXT, carrier TEXT, branch_code TEXT,
    replaces_card_id TEXT, day0 TEXT, state TEXT, card_id TEXT);
CREATE TABLE IF NOT EXISTS cards (
    card_id TEXT PRIMARY KEY, volunteer_no TEXT, order_id TEXT, carrier TEXT, branch_code TEXT,
    masked_pan TEXT, expiry TEXT, state TEXT, waiting_since TEXT, collected TEXT, dead TEXT);
CREATE INDEX IF NOT EXISTS cards_volunteer ON cards (volunteer_no);
CREATE TABLE IF NOT EXISTS plan (
    id INTEGER PRIMARY KEY, due TEXT, kind TEXT, ref TEXT, arg TEXT, done INTEGER DEFAULT 0);
CREATE INDEX IF NOT EXISTS plan_due ON plan (done, due);
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY, order_id TEXT, volunteer_no TEXT, result TEXT, reason_code TEXT,
    reason_text TEXT, card_id TEXT, masked_pan TEXT, expiry TEXT, branch_code TEXT,
    event_date TEXT, sent_in TEXT);
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY, card_id TEXT, volunteer_no TEXT, event TEXT, event_time TEXT,
    channel TEXT, new_card_id TEXT, new_masked_pan TEXT, new_expiry TEXT, detail TEXT, sent_in TEXT);
CREATE TABLE IF NOT EXISTS requests (request_id TEXT PRIMARY KEY, request_type TEXT, day TEXT, outcome TEXT);
CREATE TABLE IF NOT EXISTS swipes (
    txn_id TEXT, card_id TEXT, volunteer_no TEXT, day TEXT, month TEXT, txn_type TEXT,
    bank_fen INTEGER, reversed INTEGER DEFAULT 0, dup INTEGER DEFAULT 0);
CREATE INDEX IF NOT EXISTS swipes_day ON swipes (day, txn_type);
CREATE INDEX IF NOT EXISTS swipes_month ON swipes (month);
CREATE INDEX IF NOT EXISTS swipes_txn ON swipes (txn_id);
"""

_DEAD_EVENTS = ("CUT_CLOSED", "LOST_REPORTED", "DAMAGED_REPORTED", "EXPIRED", "ACCOUNT_CLOSED")


class BankOffice(Office):
    """BOCSZ's back office over ``folder`` (``inbox/``, ``outbox/``)."""

    partner = "BOCSZ"
    data_types = frozenset({"CARDORDER", "CARDREQ"})
    schema = _SCHEMA
    added_columns = {"swipes": {"dup": "INTEGER DEFAULT 0"}}
    default_rates = BankRates()
    rates: BankRates

    def rng(self, *what: object) -> random.Random:
        return random.Random("/".join(str(w) for w in (self.seed, *what)))

    # ================================================================ intake

    def apply(self, r: Received, day: date) -> None:
        if r.file_type == "CARDORDER":
            for _, rec in r.records:
                self._order(rec, day)
        elif r.file_type == "CARDREQ":
            for _, rec in r.records:
                self._request(rec, day)

    def _order(self, rec: dict, day: date) -> None:
        oid = rec["order_id"]
        if self.db.execute("SELECT 1 FROM orders WHERE order_id = ?", (oid,)).fetchone():
            return  # a resend of an order already received changes nothing
        rates, rng = self.rates, self.rng("order", oid)
        code = self._audit(rec, rng)
        self.db.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, 'ORDERED', NULL)",
            (oid, rec["order_type"], rec["volunteer_no"], rec["carrier"], rec["branch_code"],
             rec["replaces_card_id"], day.isoformat()),
        )  # fmt: skip
        audit = add_working_days(next_working_day(day), rng.randint(*rates.audit_days))
        self._plan(audit, "AUDIT", oid, code or "")
        if code:
            return
        late = rng.random() < rates.late_rate
        produce = add_working_days(day, rng.randint(*rates.produce_days))
        notify = add_working_days(produce, rng.randint(*rates.notify_days))
        if late:
            which = rng.choice(("PRODUCED", "NOTIFIED"))
            if which == "PRODUCED":
                produce = add_working_days(day, 15 + rng.randint(1, 5))
                notify = add_working_days(produce, 1)
            else:
                notify = add_working_days(day, 20 + rng.randint(1, 5))
        else:
            produce = min(produce, add_working_days(day, 15))
            notify = min(notify, add_working_days(day, 20))
        produce = max(produce, add_working_days(audit, 1))
        notify = max(notify, add_working_days(produce, 1))
        self._plan(produce, "PRODUCE", oid)
        self._plan(notify, "NOTIFY", oid)

    def _audit(self, rec: dict, rng: random.Random) -> str | None:
        """The reason code the bank's own checks give, or None when the audit passes."""
        rates = self.rates
        renew = rec["order_type"] == "RENEW"
        if renew:
            row = self.db.execute(
                "SELECT volunteer_no FROM cards WHERE card_id = ?", (rec["replaces_card_id"],)
            ).fetchone()
            if row is None or row[0] != rec["volunteer_no"]:
                return "R06"
        rolls = [rng.random() for _ in range(5)]
        if rolls[0] < rates.r01_identity:
            return "R01"
        if rolls[1] < rates.r02_photo:
            return "R02"
        if not renew and rolls[2] < rates.r03_duplicate and self._has_live_card(rec["volunteer_no"]):
            return "R03"
        if rolls[3] < rates.r04_branch:
            return "R04"
        if rec["carrier"] == "CREDIT" and not renew and rolls[4] < rates.r05_credit:
            return "R05"
        return None

    def _has_live_card(self, volunteer_no: str) -> bool:
        live = self.db.execute(
            "SELECT 1 FROM cards WHERE volunteer_no = ? AND state != 'DEAD'", (volunteer_no,)
        ).fetchone()
        pending = self.db.execute(
            "SELECT 1 FROM orders WHERE volunteer_no = ? AND order_type = 'NEW' AND state IN "
            "('ORDERED', 'ACCEPTED')",
            (volunteer_no,),
        ).fetchone()
        return bool(live or pending)

    def _request(self, rec: dict, day: date) -> None:
        rid = rec["request_id"]
        if self.db.execute("SELECT 1 FROM requests WHERE request_id = ?", (rid,)).fetchone():
            return
        outcome = "nothing to do"
        if rec["request_type"] == "LOSS_REPORT":
            card = self._card(rec["card_id"])
            if card is not None and card["state"] != "DEAD":
                when = max(rec["request_time"] + timedelta(minutes=5), at(day, 9))
                when = min(when, at(day, 23, 59, 59))
                self._death(
                    card, "LOST_REPORTED", when, "PLATFORM", "loss reported on the volunteer platform"
                )
                outcome = "lost reported"
        else:
            row = self.db.execute(
                "SELECT state, volunteer_no, branch_code FROM orders WHERE order_id = ?", (rec["order_id"],)
            ).fetchone()
            if row is not None and row[0] in ("ORDERED", "ACCEPTED"):
                self.db.execute(
                    "UPDATE orders SET state = 'CANCELLED' WHERE order_id = ?", (rec["order_id"],)
                )
                self._result(rec["order_id"], row[1], "REJECTED", row[2], day, reason="R07")
                outcome = "cancelled"
        self.db.execute(
            "INSERT INTO requests VALUES (?, ?, ?, ?)", (rid, rec["request_type"], day.isoformat(), outcome)
        )

    # ================================================================ the day

    def work(self, day: date) -> None:
        while True:
            due = self.db.execute(
                "SELECT id, kind, ref, arg FROM plan WHERE done = 0 AND due <= ? ORDER BY due, id",
                (day.isoformat(),),
            ).fetchall()
            if not due:
                break
            for pid, kind, ref, arg in due:
                self.db.execute("UPDATE plan SET done = 1 WHERE id = ?", (pid,))
                getattr(self, f"_do_{kind.lower()}")(ref, arg, day)
        lines, total = day_swipes(self.db, self.rates, self.rng("swipes", day.isoformat()), day)
        self.send_lines("SWIPE", day, lines, total, at(day + timedelta(days=1), 4, 45))
        created = at(day + timedelta(days=1), 5, 0)
        if is_working_day(day):
            self._send_results(day, created)
        self._send_events(day, created)

    def _plan(self, due: date, kind: str, ref: str, arg: str = "") -> None:
        self.db.execute(
            "INSERT INTO plan (due, kind, ref, arg) VALUES (?, ?, ?, ?)", (due.isoformat(), kind, ref, arg)
        )

    def _order_row(self, oid: str) -> dict:
        cur = self.db.execute("SELECT * FROM orders WHERE order_id = ?", (oid,))
        return dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))

    def _card(self, card_id: str | None) -> dict | None:
        cur = self.db.execute("SELECT * FROM cards WHERE card_id = ?", (card_id,))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row, strict=True)) if row else None

    def _do_audit(self, oid: str, code: str, day: date) -> None:
        o = self._order_row(oid)
        if o["state"] != "ORDERED":
            return  # cancelled in the meantime
        if code:
            self.db.execute("UPDATE orders SET state = 'REJECTED' WHERE order_id = ?", (oid,))
            self._result(oid, o["volunteer_no"], "REJECTED", o["branch_code"], day, reason=code)
        else:
            self.db.execute("UPDATE orders SET state = 'ACCEPTED' WHERE order_id = ?", (oid,))
            self._result(oid, o["volunteer_no"], "ACCEPTED", o["branch_code"], day)

    def _do_produce(self, oid: str, _arg: str, day: date) -> None:
        o = self._order_row(oid)
        if o["state"] != "ACCEPTED":
            return
        card_id, pan, expiry = self._new_card(oid, o, day)
        self.db.execute(
            "UPDATE orders SET state = 'PRODUCED', card_id = ? WHERE order_id = ?", (card_id, oid)
        )
        self._result(oid, o["volunteer_no"], "PRODUCED", o["branch_code"], day, card=(card_id, pan, expiry))

    def _new_card(self, ref: str, o: dict, day: date) -> tuple[str, str, str]:
        rng = self.rng("card", ref)
        while True:
            card_id = "".join(rng.choice(_ALNUM) for _ in range(16))
            if self._card(card_id) is None:
                break
        pan = f"{PAN_PREFIX}******{rng.randrange(10000):04d}"
        exp = add_months_clamped(day.replace(day=1), self.rates.validity_months)
        expiry = f"{exp:%Y%m}"
        self.db.execute(
            "INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?, ?, 'MADE', NULL, NULL, NULL)",
            (card_id, o["volunteer_no"], o["order_id"], o["carrier"], o["branch_code"], pan, expiry),
        )
        ends = month_end(exp.year, exp.month)
        self._plan(max(ends - timedelta(days=60), day + timedelta(days=1)), "EXPIRING", card_id)
        self._plan(ends + timedelta(days=1), "EXPIRED", card_id)
        return card_id, pan, expiry

    def _do_notify(self, oid: str, _arg: str, day: date) -> None:
        o = self._order_row(oid)
        if o["state"] != "PRODUCED":
            return
        card = self._card(o["card_id"])
        self.db.execute("UPDATE orders SET state = 'NOTIFIED' WHERE order_id = ?", (oid,))
        self._result(
            oid, o["volunteer_no"], "NOTIFIED", o["branch_code"], day,
            card=(card["card_id"], card["masked_pan"], card["expiry"]),
        )  # fmt: skip
        if card["state"] == "MADE":
            self._waiting(card["card_id"], day)

    def _waiting(self, card_id: str, since: date, min_days: int = 0) -> None:
        """The card waits at the branch from ``since``: plan collection (``min_days`` at the
        earliest) or the reminder and the cut at the deadline."""
        self.db.execute(
            "UPDATE cards SET state = 'WAITING', waiting_since = ? WHERE card_id = ?",
            (since.isoformat(), card_id),
        )
        rates, rng = self.rates, self.rng("pickup", card_id)
        deadline = add_months_clamped(since, 6)
        reminder = deadline - timedelta(days=30)
        collect = None
        if rng.random() < rates.collect_rate:
            wait = max(min_days, rng.randint(*rates.collect_days))
            collect = min(since + timedelta(days=wait), deadline)
            self._plan(collect, "COLLECT", card_id)
        if collect is None or collect > reminder:
            self._plan(reminder, "REMIND", card_id)
        if collect is None:
            self._plan(deadline + timedelta(days=1), "CUT", card_id)

    def _do_collect(self, card_id: str, _arg: str, day: date) -> None:
        card = self._card(card_id)
        if card is None or card["state"] != "WAITING":
            return
        rng = self.rng("use", card_id)
        self.db.execute(
            "UPDATE cards SET state = 'LIVE', collected = ? WHERE card_id = ?", (day.isoformat(), card_id)
        )
        self._event(
            card, "COLLECTED", at(day, rng.randint(9, 16), rng.randrange(60)), "BRANCH", "collected at branch"
        )
        rates = self.rates
        roll = rng.random()
        later = day + timedelta(days=rng.randint(*rates.incident_days))
        if roll < rates.loss_rate:
            self._plan(later, "INCIDENT", card_id, "LOST_REPORTED")
        elif roll < rates.loss_rate + rates.damage_rate:
            self._plan(later, "INCIDENT", card_id, "DAMAGED_REPORTED")
        elif roll < rates.loss_rate + rates.damage_rate + rates.account_close_rate:
            self._plan(later, "INCIDENT", card_id, "ACCOUNT_CLOSED")

    def _do_remind(self, card_id: str, _arg: str, day: date) -> None:
        card = self._card(card_id)
        if card is not None and card["state"] == "WAITING":
            way = self.rng("remind", card_id).choice(("SMS", "phone", "public notice"))
            self._event(card, "PICKUP_REMINDER", at(day, 10), "SYSTEM", f"reminded by {way}")

    def _do_cut(self, card_id: str, _arg: str, day: date) -> None:
        card = self._card(card_id)
        if card is not None and card["state"] == "WAITING":
            when = at(day, 0, 30)
            self._death(card, "CUT_CLOSED", when, "SYSTEM", "not collected by the pickup deadline")
            # bank.md: a cut DEBIT card may be reissued at the branch on application; a CREDIT one never
            rng = self.rng("cut-reissue", card_id)
            if card["carrier"] == "DEBIT" and rng.random() < self.rates.cut_reissue_rate:
                self._plan(day + timedelta(days=rng.randint(1, 5)), "REISSUE", card_id, when.isoformat())

    def _do_incident(self, card_id: str, event: str, day: date) -> None:
        card = self._card(card_id)
        if card is None or card["state"] != "LIVE":
            return
        channel = self.rng("incident", card_id).choice(("BRANCH", "HOTLINE"))
        self._death(card, event, at(day, 14, 20), channel, event.lower().replace("_", " "))

    def _do_expiring(self, card_id: str, _arg: str, day: date) -> None:
        card = self._card(card_id)
        if card is not None and card["state"] in ("WAITING", "LIVE"):
            self._event(card, "EXPIRING", at(day, 8), "SYSTEM", f"expires end of {card['expiry']}")

    def _do_expired(self, card_id: str, _arg: str, day: date) -> None:
        card = self._card(card_id)
        if card is not None and card["state"] != "DEAD":
            self._death(card, "EXPIRED", at(day, 0, 5), "SYSTEM", "card expired")

    def _do_reissue(self, card_id: str, dead_at: str, day: date) -> None:
        old = self._card(card_id)
        if old is None:
            return
        # after the loss or damage in time, even on the same day; inside the business date
        when = min(
            max(at(day, 15), datetime.fromisoformat(dead_at) + timedelta(minutes=10)), at(day, 23, 59, 59)
        )
        new_id, pan, expiry = self._new_card(f"reissue-{card_id}", old, day)
        self._event(
            old, "REISSUED", when, "BRANCH" if old["carrier"] == "DEBIT" else "HOTLINE",
            "replacement card", new=(new_id, pan, expiry),
        )  # fmt: skip
        self._waiting(new_id, day, min_days=1)  # collected on a later day than the REISSUED event

    def _death(self, card: dict, event: str, when: datetime, channel: str, detail: str) -> None:
        self.db.execute(
            "UPDATE cards SET state = 'DEAD', dead = ? WHERE card_id = ?",
            (when.date().isoformat(), card["card_id"]),
        )
        self._event(card, event, when, channel, detail)
        if event in ("LOST_REPORTED", "DAMAGED_REPORTED"):
            rng = self.rng("reissue", card["card_id"])
            if rng.random() < self.rates.reissue_rate:
                self._plan(
                    when.date() + timedelta(days=rng.randint(0, 5)),
                    "REISSUE",
                    card["card_id"],
                    when.isoformat(),
                )

    # ================================================================ records

    def _result(
        self,
        oid: str,
        volunteer_no: str,
        result: str,
        branch: str,
        day: date,
        *,
        reason: str | None = None,
        card: tuple[str, str, str] | None = None,
    ) -> None:
        card_id, pan, expiry = card or (None, None, None)
        self.db.execute(
            "INSERT INTO results (order_id, volunteer_no, result, reason_code, reason_text, card_id, masked_pan,"
            " expiry, branch_code, event_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (oid, volunteer_no, result, reason, REASON_TEXT.get(reason or "", ""), card_id, pan, expiry,
             branch, day.isoformat()),
        )  # fmt: skip

    def _event(
        self,
        card: dict,
        event: str,
        when: datetime,
        channel: str,
        detail: str,
        *,
        new: tuple[str, str, str] | None = None,
    ) -> None:
        day = when.date()
        n = self.db.execute(
            "SELECT count(*) FROM events WHERE event_id LIKE ?", (f"S{day:%Y%m%d}%",)
        ).fetchone()[0]
        new_id, pan, expiry = new or (None, None, None)
        self.db.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (f"S{day:%Y%m%d}{n + 1:06d}", card["card_id"], card["volunteer_no"], event,
             when.isoformat(), channel, new_id, pan, expiry, detail),
        )  # fmt: skip

    def _send_results(self, day: date, created: datetime) -> None:
        rows = self.db.execute(
            "SELECT id, order_id, volunteer_no, result, reason_code, reason_text, card_id, masked_pan, expiry,"
            " branch_code, event_date FROM results WHERE sent_in IS NULL AND event_date <= ? ORDER BY id",
            (day.isoformat(),),
        ).fetchall()
        records = [
            {
                "order_id": r[1], "volunteer_no": r[2], "result": r[3], "reason_code": r[4],
                "reason_text": r[5] or "", "card_id": r[6], "masked_pan": r[7], "expiry": r[8],
                "branch_code": r[9], "event_date": date.fromisoformat(r[10]),
            }
            for r in rows
        ]  # fmt: skip
        name = self.send("CARDRESULT", day, records, created)
        if records and self.rng("resend", day).random() < self.rates.result_resend_rate:
            self.send("CARDRESULT", day, records, created + timedelta(minutes=5))  # identical results
        self.db.executemany("UPDATE results SET sent_in = ? WHERE id = ?", [(name, r[0]) for r in rows])

    def _send_events(self, day: date, created: datetime) -> None:
        rows = self.db.execute(
            "SELECT * FROM events WHERE sent_in IS NULL AND event_time < ? ORDER BY event_time, event_id",
            ((day + timedelta(days=1)).isoformat(),),
        ).fetchall()
        records = [
            {
                "event_id": r[0], "card_id": r[1], "volunteer_no": r[2], "event": r[3],
                "event_time": datetime.fromisoformat(r[4]), "channel": r[5], "new_card_id": r[6],
                "new_masked_pan": r[7], "new_expiry": r[8], "detail": r[9] or "",
            }
            for r in rows
        ]  # fmt: skip
        name = self.send("CARDSTATUS", day, records, created)
        self.db.executemany("UPDATE events SET sent_in = ? WHERE event_id = ?", [(name, r[0]) for r in rows])

    # ================================================================ for the other partners

    def card_known(self, card_id: str) -> bool:
        """Whether the bank made this card (Shenzhen Tong learns cards from the bank)."""
        with self.lock:
            return self._card(card_id) is not None

    def monthly_transfer(self, period: str) -> dict[str, int]:
        """What the bank transfers to the fund for ``period`` (``YYYYMM``): the sum of its
        own ``donation_fen`` per volunteer number, as it sent them in SWIPE."""
        with self.lock:
            rows = self.db.execute(
                "SELECT volunteer_no, sum(bank_fen) FROM swipes WHERE month = ? GROUP BY volunteer_no"
                " ORDER BY volunteer_no",
                (period,),
            ).fetchall()
            return {v: int(fen) for v, fen in rows if fen}

    def cards(self) -> list[dict]:
        """Every card the bank made, as a dict of its state (for tests and the demo)."""
        with self.lock:
            cur = self.db.execute("SELECT * FROM cards ORDER BY card_id")
            names = [c[0] for c in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

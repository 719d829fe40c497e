"""The demo: a month of the programme, end to end, on embedded defaults.

Everything goes through the production code paths: the gateway's jobs and adapters talk
SFTP and SOAP to the sandbox partners (real servers on loopback ports), files are sealed
with real keys both ways, inbound files are applied by the exchange engine. What is
simulated is only time: the gateway's clock (``gateway.timeutil.travel_to``) and the
partners' business dates move day by day. Each day runs the registry's real schedule
(``svcard jobs schedule``: every partner's entries and the gateway's own, at their cron
times in Beijing time, through the inline queue; ``demo.timeline``), with the world
acting at its own moments in between:

    00:30 the platform: applications, approvals, service sessions, opt-ins, a loss, a
          deregistration
    02:50 on the 3rd, an operator's decision to send an incomplete month (fund.md)
    04:00 on the 1st and the 15th, volunteers file accident claims with the insurer
    05:00 the bank and the fund close the previous day (CARDRESULT, CARDSTATUS, SWIPE, ...)
    06:30 Shenzhen Tong answers the 02:00 requests

The demo keeps its state in its own folder (``var/demo``), rebuilt on each run, so it
never touches a real database.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from demo import sandbox_settings
from demo.timeline import Moment, day_plan
from gateway import context, migrate
from gateway import settings as settings_mod
from gateway.db import transaction
from gateway.domain import ids, places
from gateway.domain.errors import DomainError
from gateway.keystore import keystore
from gateway.logs import PiiMaskFilter, TextFormatter, install_masking, json_formatter
from gateway.models import Alert, Card, CardFunction, ExchangeFile, HeldEvent, ServiceSession, Volunteer
from gateway.partners.fund import exchange as fund_exchange
from gateway.partners.health import service as health
from gateway.partners.insurer import service as insurance
from gateway.services import calendar as cal_service
from gateway.services import card_queries, reconciliation, sample
from gateway.services import terminals as terminal_svc
from gateway.services import volunteers as vs
from gateway.services.volunteer_import import import_csv
from gateway.timeutil import BEIJING, reset_clock, travel_to
from jobs import queue
from jobs.schedule import entries, resolve
from sandbox.insurer_claims import seed_claims
from sandbox.world import World

Echo = Callable[[str], None]


@dataclass
class DemoOptions:
    volunteers: int = 300
    seed: int = 20261128
    start: date | None = None  # default: the 10th of last month (Beijing)
    days: int = 31
    demo_dir: Path = Path("var/demo")
    # RSA-3072 partner identities are slow to make: kept beside the demo folder, reused.
    identity_cache: Path | None = None
    quiet: bool = False
    # another database than the demo's own SQLite file (an empty PostgreSQL one, tests)
    database_url: str | None = None


def default_start(today: date) -> date:
    """The 10th of last month: the month's 3rd (DONATIONEXP) and the fund's booking day
    (the 8th) both fall inside the simulated month."""
    first = today.replace(day=1)
    prev = (first - timedelta(days=1)).replace(day=10)
    return prev


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING).astimezone(UTC)


class Demo:
    """One run of the demo. ``run()`` prints progress and returns the summary lines."""

    def __init__(self, options: DemoOptions, echo: Echo = print) -> None:
        self.o = options
        self.echo = echo
        self.rng = random.Random(options.seed)
        # Where sessions happen: a generator of its own, so the rest of the run (and what
        # earlier runs of a seed produced) does not depend on it.
        self.places_rng = random.Random(options.seed + 1)
        self.terminals: list[places.Place] = []
        self.world = None
        self.rt: context.Runtime | None = None
        self.started = time.monotonic()
        self.moved: Counter[str] = Counter()
        self.events: list[str] = []

    # ------------------------------------------------------------------ setting up

    def _logging(self, root: Path, style: str) -> None:
        """The demo's console shows progress; the gateway's full log goes to a file (one
        JSON object a line with SVCARD_LOG_FORMAT=json, as in production)."""
        install_masking()
        handler = logging.FileHandler(root / "demo.log", encoding="utf-8")
        handler.setFormatter(json_formatter() if style == "json" else TextFormatter())
        handler.addFilter(PiiMaskFilter())
        top = logging.getLogger()
        for h in list(top.handlers):
            top.removeHandler(h)
        top.addHandler(handler)
        top.setLevel(logging.INFO)

    def setup(self) -> None:
        root = self.o.demo_dir.resolve()
        if root.exists():
            if not (root / ".svcard-demo").exists():
                raise SystemExit(f"{root} exists and is not a demo folder: refusing to delete it")
            shutil.rmtree(root)
        root.mkdir(parents=True)
        (root / ".svcard-demo").write_text("made by svcard demo; deleted by the next run\n")
        base = settings_mod.load(var_dir=root)
        self._logging(root, base.log_style)
        rt = context.build(
            replace(
                base,
                database_url=self.o.database_url or f"sqlite:///{root / 'svcard.db'}",
                keys_dir=root / "keys",
                spool_dir=root / "spool",
                redis_url=None,
            )
        )
        context.install(rt)
        migrate.upgrade(rt.engine)
        ks = keystore()
        ks.init()
        self.say(f"gateway: database and keys in {root}")
        with transaction(rt.sessions) as session:
            cal_service.seed_from_holidays(session)
        csv_path = sample.generate(root / "import", self.o.volunteers, seed=self.o.seed, bad_rows=3)
        travel_to(at(self.start, 0, 10))
        with transaction(rt.sessions) as session:
            report = import_csv(session, csv_path, actor="demo")
        self.say(
            f"platform: {self.o.volunteers} volunteers imported ({len(report.errors)} rows refused "
            f"with line and column), NEW card orders pending"
        )
        for err in report.errors[:3]:
            self.say(f"  refused {err}")
        with transaction(rt.sessions) as session:
            self.terminals = self._terminals(session)
        self.say(
            f"platform: {len(self.terminals)} POS terminals, one per district, sessions recorded at them"
        )
        self.world = self._start_world(ks, root)
        # Point the gateway at the sandbox partners: their URLs and credentials are settings.
        env = self.world.gateway_env()
        s = replace(settings_mod.with_partner_env(rt.settings, env), retry_base_delay=0.2)
        rt.engine.dispose()
        self.rt = context.build(s)
        context.install(self.rt)

    # The organisations that own the demo's terminals (the statistics page filters by them).
    ORGANISATIONS = ("深圳市义工联合会", "社区志愿服务站", "青年志愿者协会")

    def _terminals(self, session) -> list[places.Place]:
        out = []
        shenzhen = [d for d in places.DISTRICTS if d.in_shenzhen]
        for n, d in enumerate(shenzhen):
            tid = f"DEMO{n + 1:04d}"
            org = self.ORGANISATIONS[n % len(self.ORGANISATIONS)]
            data = terminal_svc.TerminalData(tid, org, d.code, site_name=f"{d.name}服务站")
            terminal_svc.create_terminal(session, data, actor="demo")
            out.append(places.Place(d.code, tid, data.site_name))
        return out

    def _start_world(self, ks, root: Path):

        # The partners behave as the SVCARD_SANDBOX_* settings say (rates), like `svcard
        # sandbox serve`; the demo's own seed makes the run reproducible.
        sandbox = sandbox_settings.load(context.current().settings.var_dir)
        bank_rates, transit_rates, fund_rates = sandbox_settings.rates(sandbox)
        world = World.create(
            root / "sandbox",
            sva_sign_cert_pem=ks.export_cert("sign"),
            sva_decrypt_cert_pem=ks.export_cert("decrypt"),
            sva_ssh_public_line=ks.ssh_public_line(),
            seed=self.o.seed,
            bank_rates=bank_rates,
            transit_rates=transit_rates,
            fund_rates=fund_rates,
            identity_cache=self.o.identity_cache or root.parent / "cache" / "sandbox-identities",
        )
        world.start()
        for e in world.endpoints():
            ks.trust(e.partner, e.cert_path.read_bytes())
            if e.known_hosts_path is not None:
                ks.trust_host(e.partner, e.known_hosts_path.read_text())
        ports = sorted({e.url.rsplit(":", 1)[-1].split("/")[0] for e in world.endpoints()})
        self.say(
            f"sandbox: 5 partners on 127.0.0.1 (ports {', '.join(ports)}); their certificates and "
            f"host keys pinned in our keystore"
        )
        return world

    def say(self, line: str) -> None:
        if not self.o.quiet:
            self.echo(line)

    @property
    def start(self) -> date:
        return self.o.start or default_start(datetime.now(BEIJING).date())

    # ------------------------------------------------------------------ the month

    def run(self) -> list[str]:

        ids.reproducible(self.o.seed)
        self.setup()
        try:
            for n in range(self.o.days):
                self.day(self.start + timedelta(days=n))
            return self.summary()
        finally:
            if self.world is not None:
                self.world.close()
            reset_clock()
            ids.reproducible(None)

    def day(self, d: date) -> None:
        """One day: the registry's schedule and the world's own moments, in time order."""

        world = [Moment(at(d, 0, 30), "platform", act=lambda: self.platform(d))]
        if d.day == 3:
            world.append(Moment(at(d, 2, 50), "operator", act=lambda: self.donation_decision(d)))
        if d.day in (1, 15):
            world.append(Moment(at(d, 4), "claims filed", act=self.claims))
        world.append(Moment(at(d, 5), "bank and fund close the day", act=lambda: self._close_day(d)))
        world.append(Moment(at(d, 6, 30), "Shenzhen Tong answers", act=lambda: self.world.transit.run_day(d)))
        for m in day_plan(entries(), d, world):
            travel_to(m.at)
            if m.entry is None:
                m.act()
            else:
                self._run(m.entry)
        self.progress(d)

    def _close_day(self, d: date) -> None:
        self.world.bank.run_day(d - timedelta(days=1))
        self.world.fund.run_day(d - timedelta(days=1))

    def _run(self, entry) -> None:
        """A scheduled job through the inline queue, as a worker would run it."""

        handle = queue.enqueue(resolve(entry.func), **entry.kwargs)
        self.moved[f"job {entry.name}"] += 1
        if handle.status == "failed":
            self.events.append(f"job {entry.name} failed: {handle.error}")

    def progress(self, d: date) -> None:

        start, end = at(d, 0), at(d + timedelta(days=1), 0)
        with transaction(self.rt.sessions) as session:
            states = dict(session.execute(select(Card.state, func.count()).group_by(Card.state)).all())
            files = session.execute(
                select(ExchangeFile.direction, ExchangeFile.file_type, func.count())
                .where(
                    ExchangeFile.created_at >= start,
                    ExchangeFile.created_at < end,
                    ExchangeFile.file_type != "ACK",
                )
                .group_by(ExchangeFile.direction, ExchangeFile.file_type)
            ).all()
        moved = sorted(f"{'sent' if way == 'out' else 'received'} {ftype} {n}" for way, ftype, n in files)
        cards = " ".join(f"{k.lower()}:{v}" for k, v in sorted(states.items()))
        self.say(f"{d:%Y-%m-%d} {d:%a}  {', '.join(moved) or 'no files'} | cards {cards}")
        for e in self.events:
            self.say(f"           {e}")
        self.events.clear()

    # ------------------------------------------------------------------ the platform

    def platform(self, d: date) -> None:
        """What volunteers and the platform do on day ``d`` (through the same services the
        HTTP API uses)."""

        n = (d - self.start).days
        with transaction(self.rt.sessions) as session:
            official = session.scalars(
                select(Volunteer.volunteer_no)
                .where(Volunteer.volunteer_no.is_not(None), Volunteer.deregistered_at.is_(None))
                .order_by(Volunteer.id)
            ).all()
            # service sessions: they prove insurance cover later
            for no in self.rng.sample(official, k=min(len(official), 6)):
                try:
                    place = self.places_rng.choice(self.terminals) if self.terminals else None
                    vs.check_in(
                        session, no, at=at(d, 9), activity="community service", actor="platform", place=place
                    )
                    vs.check_out(session, no, at=at(d, 12), actor="platform")
                except DomainError as exc:  # a refused step is shown; the day goes on
                    self.events.append(f"platform: session for {no} refused: {exc}")
            in_use = session.execute(
                select(Volunteer.volunteer_no, Card.card_id)
                .join(Card, Card.volunteer_id == Volunteer.id)
                .where(Card.state == "IN_USE", Volunteer.deregistered_at.is_(None))
                .order_by(Card.id)
            ).all()
            if n % 7 == 4 and in_use:
                no, card_id = in_use[self.rng.randrange(len(in_use))]
                vs.report_loss(
                    session,
                    no,
                    at=at(d, 0, 30),
                    actor="platform",
                    card_id=card_id,
                    reason="lost on the metro",
                )
                self.events.append(f"platform: {no} reports card lost (LOSS_REPORT queued for the bank)")
            if n % 5 == 2 and in_use:
                no, _ = in_use[self.rng.randrange(len(in_use))]
                v = vs.get_volunteer(session, no)
                vs.set_opt_ins(session, no, transit=not v.opt_transit, actor="platform")
                self.events.append(
                    f"platform: {no} opts {'in to' if not v.opt_transit else 'out of'} transit"
                )
            if n == 12 and official:
                no = official[-1]
                vs.deregister(session, no, at=at(d, 0, 30), actor="platform", reason="moved away")
                self.events.append(
                    f"platform: {no} deregisters (health card, insurance and donation credit end)"
                )

    # ------------------------------------------------------------------ SOAP partners

    def claims(self) -> None:
        """Volunteers file accident claims with the insurer (the sandbox builds them from
        the sessions we recorded, some breaking the cover rules on purpose)."""

        with transaction(self.rt.sessions) as session:
            rows = session.execute(
                select(Volunteer.volunteer_no, ServiceSession.check_in, ServiceSession.check_out)
                .join(ServiceSession, ServiceSession.volunteer_id == Volunteer.id)
                .where(Volunteer.volunteer_no.is_not(None), ServiceSession.check_out.is_not(None))
            ).all()
        sessions: dict[str, list] = {}
        for no, cin, cout in rows:
            sessions.setdefault(no, []).append((cin, cout))
        chosen = dict(sorted(sessions.items())[:12])
        if chosen and self.world.soap is not None:
            new = seed_claims(self.o.seed, chosen)
            self.world.soap.insurer.add_claims(new)
            self.events.append(f"insurer: {len(new)} claims filed by {len(chosen)} volunteers")

    def donation_decision(self, d: date) -> None:
        """The 3rd, before DONATIONEXP goes at 03:00: the go-live month has no SWIPE files
        before the start, so it is not complete; an operator decides to send it anyway, and
        the decision is recorded (fund.md)."""

        period = fund_exchange.previous_period(d)
        with transaction(self.rt.sessions) as session:
            missing = reconciliation.missing_days(session, period)
            if missing:
                fund_exchange.decide_early(
                    session, period, actor="demo-operator",
                    reason=f"go-live month: no SWIPE files before {self.start:%Y-%m-%d}",
                )  # fmt: skip
                self.events.append(
                    f"operator: DONATIONEXP {period} sent early ({len(missing)} days before go-live "
                    "have no SWIPE file; decision recorded)"
                )

    # ------------------------------------------------------------------ the summary

    def summary(self) -> list[str]:

        last = self.start + timedelta(days=self.o.days - 1)
        out = [
            "",
            f"== summary: {self.start:%Y-%m-%d} to {last:%Y-%m-%d}, "
            f"{time.monotonic() - self.started:.0f} s ==",
        ]
        with transaction(self.rt.sessions) as session:
            p = card_queries.pipeline(session)
            out.append("card pipeline: " + ", ".join(f"{k.lower()} {v}" for k, v in p.cards.items() if v))
            out.append("orders: " + ", ".join(f"{k.lower()} {v}" for k, v in sorted(p.orders.items())))
            late = card_queries.overdue_orders(session, last)
            soon = card_queries.due_soon_orders(session, last)
            risk = card_queries.at_risk_cards(session, last)
            out.append(
                f"overdue orders: {len(late)}; due within two working days: {len(soon)}; "
                f"cards at risk of cut-and-close: {len(risk)}"
            )
            fns = session.execute(
                select(CardFunction.function, CardFunction.state, func.count())
                .where(CardFunction.function.in_(("TRANSIT", "HEALTH")))
                .group_by(CardFunction.function, CardFunction.state)
            ).all()
            for fn in ("TRANSIT", "HEALTH"):
                parts = ", ".join(f"{s.lower()} {n}" for f, s, n in sorted(fns) if f == fn and n)
                out.append(f"{fn.lower()} function on cards: {parts or 'none'}")
            held = session.scalar(
                select(func.count()).select_from(HeldEvent).where(HeldEvent.status == "HELD")
            )
            out.append(f"bank events held for an operator: {held}")
            out.append("files exchanged:")
            rows = session.execute(
                select(
                    ExchangeFile.partner,
                    ExchangeFile.direction,
                    ExchangeFile.file_type,
                    ExchangeFile.status,
                    func.count(),
                ).group_by(
                    ExchangeFile.partner, ExchangeFile.direction, ExchangeFile.file_type, ExchangeFile.status
                )
            ).all()
            by_partner: dict[str, list[str]] = {}
            for partner, direction, ftype, status, n in rows:
                arrow = "->" if direction == "out" else "<-"
                by_partner.setdefault(partner, []).append(f"{arrow} {ftype} {status} {n}")
            for partner in sorted(by_partner):
                out.append(f"  {partner:<6} " + "; ".join(sorted(by_partner[partner])))
            errors = (
                session.execute(
                    select(ExchangeFile.name).where(ExchangeFile.status.in_(("partial", "rejected")))
                )
                .scalars()
                .all()
            )
            out.append(
                f"files with record errors or refused: {len(errors)}"
                + (f" (e.g. {errors[0]})" if errors else "")
            )
            alerts = session.execute(
                select(Alert.kind, func.count()).where(Alert.resolved_at.is_(None)).group_by(Alert.kind)
            ).all()
            out.append("open alerts: " + (", ".join(f"{k} {n}" for k, n in alerts) or "none"))
        out += self._partners_summary(last)
        return out

    def _partners_summary(self, last: date) -> list[str]:
        out = []
        try:
            with transaction(self.rt.sessions) as session:
                flagged = insurance.flagged_claims(session)
                total = insurance.stored_claim_count(session)
            out.append(f"insurance: {total} claims looked up, {len(flagged)} flagged against the cover")
            for c in flagged[:4]:
                out.append(f"  {insurance.format_claim(c)}")
        except Exception as exc:  # noqa: BLE001 - the summary reports what it could not read
            out.append(f"insurance: summary unavailable ({exc})")
        try:
            with transaction(self.rt.sessions) as session:
                pend = health.pending(session)
            out.append(f"health cards: {len(pend)} requests pending")
        except Exception as exc:  # noqa: BLE001
            out.append(f"health cards: summary unavailable ({exc})")
        try:
            period = (last.replace(day=1) - timedelta(days=1)).strftime("%Y%m")
            with transaction(self.rt.sessions) as session:
                rep = reconciliation.report(session, period)
            out.append(
                f"donations {period}: computed {rep.computed_fen} fen, bank {rep.bank_fen}, booked by the fund "
                f"{rep.booked_fen}; {sum(ln.bank_differs for ln in rep.lines)} beneficiaries where the bank "
                f"differs; {rep.flagged_total} flagged swipes"
            )
            for c in rep.classes.values():
                if c.count:
                    out.append(
                        f"  {c.klass:<10} {c.count:>4} beneficiaries  computed {c.computed_fen:>7} "
                        f"booked {c.booked_fen:>7}"
                    )
            out.append(f"  (svcard donations reconcile {period} --csv FILE for every line)")
        except Exception as exc:  # noqa: BLE001
            out.append(f"donations: summary unavailable ({exc})")
        out.append(
            f"to look around: SVCARD_VAR_DIR={self.o.demo_dir} svcard exchange files | cards pipeline | "
            "exchange alerts"
        )
        return out

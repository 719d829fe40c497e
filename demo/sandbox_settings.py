"""The sandbox partners' settings (``SVCARD_SANDBOX_*``, docs/sandbox.md): read here, by
the sandbox's own commands and the demo, never by the production gateway (which leaves
the prefix to this module: ``gateway.settings.OWNED_ELSEWHERE``).

Each variable is checked as the gateway's own are (the same ``Spec`` table and parsers):
a value out of range or a misspelled name stops the command with the variable's name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gateway.settings import PREFIX, SettingsError, Spec, float_range, int_range, path_value

_PREFIX = PREFIX + "SANDBOX_"

# The partners' behaviour: name -> (default, doc). Rates are probabilities; they map onto
# sandbox.bank.BankRates, TransitRates and FundRates.
RATES: dict[str, tuple[str, str]] = {
    "R01_RATE": ("0.02", "sandbox bank: orders rejected R01 (identity check failed)"),
    "R02_RATE": ("0.02", "sandbox bank: orders rejected R02 (photo unusable)"),
    "R04_RATE": ("0.01", "sandbox bank: orders rejected R04 (branch closed)"),
    "R05_RATE": ("0.05", "sandbox bank: CREDIT orders rejected R05 (credit declined)"),
    "LATE_RATE": ("0.02", "sandbox bank: orders produced or notified after the service level"),
    "COLLECT_RATE": ("0.9", "sandbox bank: notified cards collected before the pickup deadline"),
    "LOSS_RATE": ("0.02", "sandbox bank: collected cards later reported lost"),
    "DAMAGE_RATE": ("0.01", "sandbox bank: collected cards later reported damaged"),
    "ACCOUNT_CLOSE_RATE": ("0.005", "sandbox bank: collected cards whose account is closed"),
    "REISSUE_RATE": ("0.6", "sandbox bank: lost or damaged cards reissued"),
    "SWIPES_PER_CARD_DAY": ("1.5", "sandbox bank: mean transactions of a collected card a day"),
    "SWIPE_TOTAL": ("0", "sandbox bank: if above 0, exactly this many SWIPE records a day"),
    "SWIPE_ANOMALY_RATE": (
        "0.001",
        "sandbox bank: each of wrong figure, duplicate txn_id, reversal of nothing",
    ),
    "TRANSIT_BLOCKED_RATE": ("0.01", "sandbox Shenzhen Tong: requests answered T03 (card blocked)"),
    "FUND_SHORT_RATE": ("0.02", "sandbox fund: volunteers booked short"),
    "FUND_OVER_RATE": ("0.01", "sandbox fund: volunteers booked over"),
    "FUND_MISSING_RATE": ("0.01", "sandbox fund: volunteers not booked at all"),
}


def _rate_parser(name: str):  # noqa: ANN202 - a parser of the Spec table
    if name == "SWIPE_TOTAL":
        return int_range(0, 10_000_000)
    if name == "SWIPES_PER_CARD_DAY":
        return float_range(0, 1000)
    return float_range(0, 1)


SPECS: list[Spec] = [
    Spec("SEED", int_range(0, 2**31), "20261128", "seed of the sandbox partners' choices"),
    Spec("DIR", path_value, None, "folder of `svcard sandbox serve`'s world; default VAR_DIR/sandbox"),
    Spec(
        "INTERVAL",
        float_range(0.1, 86400),
        "10",
        "seconds between two rounds of `svcard sandbox serve` (read inboxes, close past days)",
    ),
    *(Spec(name, _rate_parser(name), default, doc) for name, (default, doc) in RATES.items()),
]


@dataclass(frozen=True)
class SandboxSettings:
    seed: int
    dir: Path
    interval: float
    rates: Mapping[str, float]


def load(var_dir: Path, environ: Mapping[str, str] | None = None) -> SandboxSettings:
    """Read every ``SVCARD_SANDBOX_*`` variable; ``var_dir`` is the gateway's (the default
    folder is ``var_dir/sandbox``)."""
    env = os.environ if environ is None else environ
    known = {_PREFIX + s.name for s in SPECS}
    unknown = sorted(k for k in env if k.startswith(_PREFIX) and k not in known)
    if unknown:
        raise SettingsError(f"{unknown[0]}: unknown sandbox setting (typo?); see docs/sandbox.md")
    values = {}
    for spec in SPECS:
        raw = env.get(_PREFIX + spec.name, spec.default)
        try:
            values[spec.name] = None if raw is None else spec.parse(raw)
        except (ValueError, SettingsError) as exc:
            raise SettingsError(f"{_PREFIX}{spec.name}: {exc}") from None
    return SandboxSettings(
        seed=values["SEED"],
        dir=values["DIR"] or var_dir / "sandbox",
        interval=values["INTERVAL"],
        rates={name: values[name] for name in RATES},
    )


def rates(s: SandboxSettings):  # noqa: ANN201 - (BankRates, TransitRates, FundRates)
    """The sandbox partners' rates, as their back offices take them."""
    # the back offices (and holidays under them) load when a sandbox runs, not with these
    # settings at `svcard --help`
    from sandbox.bank import BankRates
    from sandbox.fund import FundRates
    from sandbox.transit import TransitRates

    r = s.rates
    anomaly = r["SWIPE_ANOMALY_RATE"]
    bank = replace(
        BankRates(),
        r01_identity=r["R01_RATE"],
        r02_photo=r["R02_RATE"],
        r04_branch=r["R04_RATE"],
        r05_credit=r["R05_RATE"],
        late_rate=r["LATE_RATE"],
        collect_rate=r["COLLECT_RATE"],
        loss_rate=r["LOSS_RATE"],
        damage_rate=r["DAMAGE_RATE"],
        account_close_rate=r["ACCOUNT_CLOSE_RATE"],
        reissue_rate=r["REISSUE_RATE"],
        swipes_per_card_day=r["SWIPES_PER_CARD_DAY"],
        swipe_total=int(r["SWIPE_TOTAL"]),
        wrong_figure_rate=anomaly,
        duplicate_txn_rate=anomaly,
        orphan_reversal_rate=anomaly,
    )
    transit = TransitRates(blocked_rate=r["TRANSIT_BLOCKED_RATE"])
    fund = replace(
        FundRates(),
        short_rate=r["FUND_SHORT_RATE"],
        over_rate=r["FUND_OVER_RATE"],
        missing_rate=r["FUND_MISSING_RATE"],
    )
    return bank, transit, fund

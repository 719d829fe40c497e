"""How the sandbox bank behaves: the probabilities and delays of :class:`BankRates`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BankRates:
    """What the sandbox bank does, as probabilities and delays (days). Defaults make a
    lively but mostly happy bank; tests set rates to 0 or 1 to force a path."""

    r01_identity: float = 0.02
    r02_photo: float = 0.02
    r03_duplicate: float = 1.0  # chance a real duplicate is caught (it is a real check)
    r04_branch: float = 0.01
    r05_credit: float = 0.05  # of CREDIT orders
    audit_days: tuple[int, int] = (1, 2)  # working days after day 0
    produce_days: tuple[int, int] = (5, 12)  # working days after day 0 (SLA 15)
    notify_days: tuple[int, int] = (1, 4)  # working days after PRODUCED (SLA 20 from day 0)
    late_rate: float = 0.02  # orders produced or notified after their service level
    collect_rate: float = 0.9  # notified cards collected before the pickup deadline
    collect_days: tuple[int, int] = (0, 20)  # calendar days after NOTIFIED
    loss_rate: float = 0.02  # collected cards later reported lost
    damage_rate: float = 0.01
    account_close_rate: float = 0.005
    incident_days: tuple[int, int] = (10, 120)  # when a loss/damage/closure happens after collection
    reissue_rate: float = 0.6  # lost or damaged cards replaced by a REISSUED card
    cut_reissue_rate: float = 0.0  # cut-and-closed DEBIT cards reissued on application (never CREDIT)
    validity_months: int = 60  # card expiry: production month + this
    swipes_per_card_day: float = 1.5  # mean transactions a collected card makes a day
    swipe_total: int = 0  # if > 0: exactly this many records a day, spread over live cards
    refund_rate: float = 0.05
    reversal_rate: float = 0.05
    wrong_figure_rate: float = 0.001  # bank's donation_fen wrong
    duplicate_txn_rate: float = 0.001  # a txn_id sent again
    orphan_reversal_rate: float = 0.001  # a reversal of a purchase that never was
    result_resend_rate: float = 0.0  # days whose CARDRESULT is sent twice (bank.md allows resent results)

"""SQLAlchemy 2 typed models. Every model module is imported here so that
``Base.metadata`` is complete for Alembic and for the models/migrations agreement test."""

from gateway.models.api import ApiToken, AuditEntry, IdempotencyRecord, VolunteerViewToken
from gateway.models.base import Base
from gateway.models.calendar import CalendarDay, CalendarYear
from gateway.models.cards import Card, CardEvent, CardFunction, CardRequest, HeldEvent, Order
from gateway.models.donations import (
    DonationDay,
    DonationPeriod,
    DonationReceipt,
    Swipe,
    SwipeDuplicate,
    SwipeReversal,
)
from gateway.models.exchange import Alert, ExchangeFile, FileApplication, OutboundItem, RecordErrorRow
from gateway.models.health import HealthRequest
from gateway.models.insurance import ClaimSweep, InsuranceClaim
from gateway.models.statistics import StatCell, StatMonth
from gateway.models.terminals import Terminal, TerminalSwipe
from gateway.models.transit import TransitRequest
from gateway.models.volunteers import Branch, ServiceSession, TrainingRecord, Volunteer

__all__ = [
    "StatCell",
    "StatMonth",
    "DonationDay",
    "DonationPeriod",
    "DonationReceipt",
    "Swipe",
    "SwipeDuplicate",
    "SwipeReversal",
    "Alert",
    "ExchangeFile",
    "FileApplication",
    "OutboundItem",
    "RecordErrorRow",
    "ApiToken",
    "AuditEntry",
    "IdempotencyRecord",
    "Base",
    "Branch",
    "CalendarDay",
    "CalendarYear",
    "Card",
    "CardEvent",
    "CardFunction",
    "CardRequest",
    "HeldEvent",
    "HealthRequest",
    "InsuranceClaim",
    "ClaimSweep",
    "Order",
    "ServiceSession",
    "Terminal",
    "TerminalSwipe",
    "TrainingRecord",
    "VolunteerViewToken",
    "TransitRequest",
    "Volunteer",
]

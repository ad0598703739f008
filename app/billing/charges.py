"""Rated charges and the plain inputs rating starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.billing.terms import ChargeType, DateRange


@dataclass(frozen=True)
class UsageTotal:
    """Total quantity of one usage class over ``span`` (the services layer aggregates per period)."""

    usage_class: str
    span: DateRange
    quantity: Decimal


@dataclass(frozen=True)
class OneTimeCharge:
    """A one-time charge posted through the API. ``seq`` is its creation order."""

    key: str
    product: str
    amount: Decimal
    service_date: date
    seq: int = 0


@dataclass(frozen=True)
class Charge:
    """A drawable charge of one billing period, its ``amount`` already rounded to the minor unit.

    ``key`` is stable across runs (e.g. ``usage:sms-mo-mb``, ``recurring:<line key>``,
    ``standing``, ``minimum_spend``, ``one_time:<key>``); ``seq`` is the creation order used as the
    last drawdown tie-break. ``service_period`` is the span the charge is for.
    """

    key: str
    type: ChargeType
    product: str
    amount: Decimal
    service_period: DateRange
    quantity: Decimal | None = None
    unit_amount: Decimal | None = None
    seq: int = 0

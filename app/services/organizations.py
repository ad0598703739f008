"""Organizations (tenants) and their API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from app.billing.money import is_known_currency
from app.billing.terms import DrawdownOrder
from app.db.models import ApiKey, Organization
from app.services.checks import name_problem
from app.services.late_rules import MAX_WINDOW_DAYS
from app.services.errors import ErrorCode, InvalidInput, UserError
from app.services.key_cache import KeyCache
from app.settings import load_settings

KEY_PREFIX = "cmt_"
CLOSE_GRACE_DAYS = range(0, 32)  # closeGraceDays: 0 to 31 days (SPEC §12)
KEYS = KeyCache(ttl=load_settings().api_key_cache_seconds)
"""Valid keys this process has seen (key hash → organization id), for a short time."""


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class OrganizationPatch:
    name: str | None = None
    default_currency: str | None = None
    drawdown_order: DrawdownOrder | None = None
    close_grace_days: int | None = None
    late_usage: str | None = None  # ADJUST or REJECT (SPEC §17)
    correction_window_days: int | None = None


def _check(patch: OrganizationPatch) -> None:
    errors = [e for e in [name_problem(patch.name, "input.name")] if e]
    if patch.default_currency is not None and not is_known_currency(patch.default_currency):
        errors.append(
            UserError(ErrorCode.UNKNOWN_CURRENCY, "not an ISO 4217 currency", "input.defaultCurrency")
        )
    if patch.close_grace_days is not None and patch.close_grace_days not in CLOSE_GRACE_DAYS:
        errors.append(UserError(ErrorCode.INVALID_INPUT, "closeGraceDays must be a whole number of days from 0 to 31",
                                "input.closeGraceDays"))
    if patch.correction_window_days is not None and not 0 <= patch.correction_window_days <= MAX_WINDOW_DAYS:
        errors.append(UserError(ErrorCode.INVALID_INPUT,
                                f"correctionWindowDays must be a whole number of days from 0 to {MAX_WINDOW_DAYS}",
                                "input.correctionWindowDays"))
    if errors:
        raise InvalidInput(errors)


async def create_organization(name: str, currency: str = "USD") -> tuple[Organization, str]:
    """Create an organization with one API key; returns the raw key (shown once, stored hashed)."""
    _check(OrganizationPatch(name=name, default_currency=currency))
    async with in_transaction():
        org = await Organization.create(name=name, default_currency=currency)
        raw = await issue_api_key(org.id)
    return org, raw


async def issue_api_key(org_id: int) -> str:
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    await ApiKey.create(organization_id=org_id, prefix=raw[:12], key_hash=hash_key(raw))
    return raw


async def authenticate(raw_key: str) -> int | None:
    """The organization id of a valid, unrevoked key, else None. A valid key is remembered for
    ``COMMITMENTS_API_KEY_CACHE_SECONDS`` (``key_cache``): a revoked key keeps working that long on
    each process that has seen it; an invalid one is looked up on every request."""
    key_hash = hash_key(raw_key)
    org_id = KEYS.get(key_hash)
    if org_id is not None:
        return org_id
    org_id = await ApiKey.filter(key_hash=key_hash, revoked_at__isnull=True).first().values_list(
        "organization_id", flat=True)
    if org_id is None:
        return None
    KEYS.put(key_hash, org_id)
    return org_id


async def update_organization(org_id: int, patch: OrganizationPatch) -> Organization:
    _check(patch)
    org = await Organization.get(id=org_id)
    if patch.name is not None:
        org.name = patch.name
    if patch.default_currency is not None:
        org.default_currency = patch.default_currency
    if patch.drawdown_order is not None:
        org.drawdown_order = patch.drawdown_order.value
    if patch.close_grace_days is not None:
        org.close_grace_days = patch.close_grace_days
    if patch.late_usage is not None:
        org.late_usage = patch.late_usage
    if patch.correction_window_days is not None:
        org.correction_window_days = patch.correction_window_days
    await org.save()
    return org

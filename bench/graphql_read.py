"""Nested GraphQL read: the nested contracts query via ``schema.execute`` vs the same dict by hand.

Set-up: 50 DRAFT contracts (each on its own account with one balance), each with 2 tiered prices,
2 service lines and 2 commitments (ramps of 2 steps, 1 and 2 tiered penalties; 12 + 4 windows):
about 2,400 objects in the answer (every growing list a connection: `{ nodes { … } }`).
Measured: ``app.api.schema.schema.execute`` of QUERY in-process with a fresh Context and Loaders
(as a request gets), DataLoaders batching each level into one SQL statement.
Floor: the same rows loaded with plain Tortoise queries (``.values()``, one query per table,
``__in`` on the parents' ids), the draft windows computed with the same billing-core functions,
and the same dict built by hand (decimals as the API formats them). The two answers are checked to
be equal before timing, so the floor does exactly the same work minus GraphQL.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D
from typing import Any

from app.api.context import Context
from app.api.loaders import Loaders
from app.api.scalars import money, optional_quantity, quantity
from app.api.schema import schema
from app.billing.activation import window_plans
from app.billing.terms import Commitment as CoreCommitment
from app.billing.terms import (
    CommitmentType,
    DateRange,
    Frequency,
    PaymentTiming,
    Penalty,
    PenaltyKind,
    PenaltyTier,
    PriceTier,
    PricingModel,
    ProductKind,
    RampStep,
    TierBasis,
    TierMode,
)
from app.db import models
from app.services import accounts, balances, contracts, products
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec, ServiceLineSpec
from bench.common import YEAR, Result, fresh_database, median, say, timed

CONTRACTS = 50

# Every growing list is a connection; the page sizes keep the query's cost (~35,000) under the limit.
QUERY = """{ contracts(first: 50) { nodes {
  name currency startDate endDate status
  commitments(first: 2) { nodes {
    name type payment frequency
    rampSteps { fromWindow amount }
    windows(first: 12) { nodes { number startDate endDate committed } }
    penalties { kind amount rate basis mode tiers { upTo rate flat } }
  } }
  prices(first: 2) { nodes { model unitAmount tiers { upTo unitAmount flatAmount } } }
  serviceLines(first: 2) { nodes { quantity unitPrice externalId } }
  account { name balances(first: 1) { nodes { name amount } } }
} } }"""


def _price_tiers() -> tuple[PriceTier, ...]:
    return (PriceTier(D(100), D(2), D(0)), PriceTier(None, D(1), D(5)))


def _penalty() -> Penalty:
    return Penalty(kind=PenaltyKind.TIERED, basis=TierBasis.UNITS, mode=TierMode.GRADUATED,
                   tiers=(PenaltyTier(D(10), D(1), D(0)), PenaltyTier(None, D(2), D(0))))


async def _setup() -> int:
    org, _ = await create_organization("Bench read", "GBP")
    ids = {}
    for code, kind, unit in (("sms-mo-mb", ProductKind.USAGE_CLASS, "MB"), ("data-gb", ProductKind.USAGE_CLASS, "GB"),
                             ("sim-a", ProductKind.SERVICE, "SIM"), ("sim-b", ProductKind.SERVICE, "SIM")):
        ids[code] = (await products.create_product(org.id, products.ProductSpec(code, code, kind, unit))).id
    for i in range(CONTRACTS):
        acc = await accounts.create_account(org.id, accounts.AccountSpec(name=f"Account {i}"))
        await balances.create_balance(org.id, balances.BalanceSpec(acc.id, "Credit", "GBP", D(100), *YEAR))
        await contracts.create_contract(org.id, ContractSpec(
            account_id=acc.id, name=f"Contract {i}", currency="GBP", start_date=YEAR[0], end_date=YEAR[1],
            billing_frequency=Frequency.MONTHLY,
            prices=(PriceSpec(ids["sms-mo-mb"], PricingModel.GRADUATED, tiers=_price_tiers()),
                    PriceSpec(ids["data-gb"], PricingModel.VOLUME, tiers=_price_tiers())),
            service_lines=(ServiceLineSpec(ids["sim-a"], D(10), D(1), external_id=f"4477{i:06d}"),
                           ServiceLineSpec(ids["sim-b"], D(3), D("2.5"))),
            commitments=(
                CommitmentSpec("Spend", CommitmentType.SPEND, Frequency.MONTHLY,
                               (RampStep(1, D(100)), RampStep(5, D(200))), payment=PaymentTiming.POSTPAID,
                               penalties=(_penalty(),)),
                CommitmentSpec("Data", CommitmentType.USAGE, Frequency.QUARTERLY,
                               (RampStep(1, D(10)), RampStep(3, D(20))), usage_class_id=ids["data-gb"],
                               penalties=(_penalty(), _penalty())),
            ),
        ))
    return org.id


async def via_graphql(org: int) -> dict[str, Any]:
    result = await schema.execute(QUERY, context_value=Context(org_id=org, loaders=Loaders(org)))
    if result.errors:
        raise AssertionError(result.errors)
    assert result.data is not None
    return result.data


def _s(value: D | None) -> str | None:
    return None if value is None else str(value)


def _grouped(rows: list[dict[str, Any]], fk: str) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[r[fk]].append(r)
    return out


async def by_hand(org: int) -> dict[str, Any]:
    """The same answer from plain Tortoise queries and a hand-built dict."""
    rows = await models.Contract.filter(organization_id=org).order_by("id").limit(CONTRACTS).values(
        "id", "name", "currency", "start_date", "end_date", "status", "account_id")
    cids = [r["id"] for r in rows]
    commitments = _grouped(await models.Commitment.filter(organization_id=org, contract_id__in=cids).order_by("id").values(
        "id", "contract_id", "name", "type", "payment", "frequency", "start_date", "end_date", "prorate"), "contract_id")
    mids = [c["id"] for cs in commitments.values() for c in cs]
    steps = _grouped(await models.RampStep.filter(organization_id=org, commitment_id__in=mids)
                     .order_by("from_window", "id").values("commitment_id", "from_window", "amount"), "commitment_id")
    penalties = _grouped(await models.Penalty.filter(organization_id=org, commitment_id__in=mids)
                         .order_by("position", "id").values("id", "commitment_id", "kind", "amount", "rate", "basis",
                                                            "mode"), "commitment_id")
    pids = [p["id"] for ps in penalties.values() for p in ps]
    ptiers = _grouped(await models.PenaltyTier.filter(organization_id=org, penalty_id__in=pids)
                      .order_by("position", "id").values("penalty_id", "up_to", "rate", "flat"), "penalty_id")
    prices = _grouped(await models.Price.filter(organization_id=org, contract_id__in=cids).order_by("id")
                      .values("id", "contract_id", "model", "unit_amount"), "contract_id")
    rids = [p["id"] for ps in prices.values() for p in ps]
    rtiers = _grouped(await models.PriceTier.filter(organization_id=org, price_id__in=rids).order_by("position", "id")
                      .values("price_id", "up_to", "unit_amount", "flat_amount"), "price_id")
    lines = _grouped(await models.ServiceLine.filter(organization_id=org, contract_id__in=cids).order_by("id")
                     .values("contract_id", "quantity", "unit_price", "external_id"), "contract_id")
    aids = list({r["account_id"] for r in rows})
    accs = {a["id"]: a for a in await models.Account.filter(organization_id=org, id__in=aids).values("id", "name")}
    bals = _grouped(await models.Balance.filter(organization_id=org, account_id__in=aids).order_by("id")
                    .values("account_id", "name", "amount", "currency"), "account_id")

    def windows(c: dict[str, Any], contract: dict[str, Any]) -> list[dict[str, Any]]:
        core = CoreCommitment(
            key=str(c["id"]), type=CommitmentType(c["type"]),
            term=DateRange(c["start_date"] or contract["start_date"], c["end_date"] or contract["end_date"]),
            frequency=Frequency(c["frequency"]),
            ramp=tuple(RampStep(s["from_window"], quantity(s["amount"])) for s in steps[c["id"]]),
            prorate=c["prorate"])
        return [{"number": p.window.number, "startDate": p.window.span.start.isoformat(),
                 "endDate": p.window.span.end.isoformat(), "committed": str(quantity(p.committed))}
                for p in window_plans(core, contract["currency"])]

    nodes = []
    for r in rows:
        account = accs[r["account_id"]]
        nodes.append({
            "name": r["name"], "currency": r["currency"], "startDate": r["start_date"].isoformat(),
            "endDate": r["end_date"].isoformat(), "status": r["status"],
            "commitments": {"nodes": [{
                "name": c["name"], "type": c["type"], "payment": c["payment"], "frequency": c["frequency"],
                "rampSteps": [{"fromWindow": s["from_window"], "amount": str(quantity(s["amount"]))}
                              for s in steps[c["id"]]],
                "windows": {"nodes": windows(c, r)},
                "penalties": [{
                    "kind": p["kind"], "amount": str(quantity(p["amount"])), "rate": str(quantity(p["rate"])),
                    "basis": p["basis"], "mode": p["mode"],
                    "tiers": [{"upTo": _s(optional_quantity(t["up_to"])), "rate": str(quantity(t["rate"])),
                               "flat": str(quantity(t["flat"]))} for t in ptiers[p["id"]]],
                } for p in penalties[c["id"]]],
            } for c in commitments[r["id"]]]},
            "prices": {"nodes": [{
                "model": p["model"], "unitAmount": str(quantity(p["unit_amount"])),
                "tiers": [{"upTo": _s(optional_quantity(t["up_to"])), "unitAmount": str(quantity(t["unit_amount"])),
                           "flatAmount": str(quantity(t["flat_amount"]))} for t in rtiers[p["id"]]],
            } for p in prices[r["id"]]]},
            "serviceLines": {"nodes": [{"quantity": str(quantity(s["quantity"])), "unitPrice": str(quantity(s["unit_price"])),
                                        "externalId": s["external_id"]} for s in lines[r["id"]]]},
            "account": {"name": account["name"],
                        "balances": {"nodes": [{"name": b["name"], "amount": str(money(b["amount"], b["currency"]))}
                                               for b in bals[account["id"]]]}},
        })
    return {"contracts": {"nodes": nodes}}


def _objects(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


async def run(db: str, quick: bool) -> Result:
    reps = 5 if quick else 15
    async with fresh_database(db):
        org = await _setup()
        expected = await via_graphql(org)  # also the warm-up
        built = await by_hand(org)
        if built != expected:
            raise AssertionError("the hand-built answer differs from the GraphQL answer")
        objects = _objects(expected)
        measured, floor = [], []
        for _ in range(reps):  # interleaved, so both see the same machine state
            measured.append((await timed(lambda: via_graphql(org)))[0])
            floor.append((await timed(lambda: by_hand(org)))[0])
        say(f"{objects:,} objects: schema.execute {median(measured) * 1000:.1f} ms, "
            f"by hand {median(floor) * 1000:.1f} ms")
        result = Result(f"nested GraphQL read ({CONTRACTS} contracts)", db, median(measured), median(floor))
        result.notes.append(f"{objects:,} objects in the answer; schema.execute {result.measured * 1000:.1f} ms "
                            f"vs plain Tortoise + hand-built dict {result.floor * 1000:.1f} ms: {result.ratio:.1f}x")
        return result



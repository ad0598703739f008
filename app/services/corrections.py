"""Correct a contract (SPEC §17): bill its late data as linked credit and debit notes.

``correct_contract`` runs in ONE transaction with the contract row locked (a close, an ingest, an
amendment or another correction of the contract waits for it): with no late data pending it writes
nothing; else it replays the contract's closed periods with all the data now known
(``correction_input.gather_replay`` → ``billing.correction.recompute``), and for every period from
the earliest one holding late data whose recomputed lines differ from what was issued for it (its
invoice plus earlier adjustments), writes one adjustment linked to its invoice (``CREDIT_NOTE`` if
its total is ≤ 0, else ``DEBIT_NOTE``). ``ADJUST`` entries, dated on the correction's day, bring
every pool to its recomputed balance (a shared account balance gives no more than it holds: the rest
stays billed, as a line of the last adjustment). What the closes keep for later periods (usage
totals, rated charges, settled windows' figures) is brought to the recomputed figures; the late
data is marked applied. Invoices, their lines and ledger entries are never edited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tortoise.transactions import in_transaction

from app.billing.correction import LineKey, differences, line_key, pool_moves, recompute
from app.billing.invoice import InvoiceLine as CoreLine
from app.billing.labels import pool_label
from app.billing.ledger import Pool, adjust
from app.billing.money import as_quantity
from app.billing.terms import DateRange, LineType
from app.clock import utc_now
from app.db.models import (
    Adjustment,
    AdjustmentLine,
    CommitmentWindow,
    Contract,
    InvoiceLine,
    LateData,
    PeriodUsage,
    RatedCharge,
)
from app.services.adjustments import AdjustmentLineSpec, write_adjustment
from app.services.checks import require
from app.services.correction_input import Replay, gather_replay
from app.services.pools import append_entries, core_pool, create_pools

log = logging.getLogger(__name__)
REASON = "correction: late data billed as if it had come on time (SPEC §17)"


@dataclass
class CorrectionReport:
    """What one correction wrote: its adjustments (empty: nothing differed) and late data applied."""

    adjustments: list[Adjustment] = field(default_factory=list)
    applied: int = 0


async def correct_contract(org_id: int, contract_id: int) -> CorrectionReport:
    """See the module docstring."""
    async with in_transaction():
        contract = await require(Contract, org_id, contract_id, "contractId", for_update=True)
        pending = await LateData.filter(organization_id=org_id, contract_id=contract.id, applied_at=None)
        if not pending:
            return CorrectionReport()
        replay = await gather_replay(org_id, contract)
        earliest = min(p.day for p in pending)
        start = next((i for i, p in enumerate(replay.periods) if p.end_date > earliest), len(replay.periods))
        again = recompute(replay.data, replay.shells, born=replay.born, next_seq=replay.next_seq)
        today = utc_now().date()
        new_pools = [p for key, p in again.pools.items() if key not in replay.rows]
        for owner in {replay.owners.get(p.commitment_key or "", contract.id) for p in new_pools}:
            replay.rows.update(await create_pools(org_id, contract.account_id, owner, contract.currency, [
                p for p in new_pools if replay.owners.get(p.commitment_key or "", contract.id) == owner]))
        balances = {key: row.balance for key, row in replay.rows.items()}
        moves = pool_moves(replay.issued_moves, again.results, balances, replay.shared)
        held_before = await _held_before(org_id, contract.id, replay)
        written = []
        for i in range(start, len(replay.periods)):
            invoice = replay.invoices[replay.periods[i].id]
            issued, links = await _issued(org_id, invoice.id, replay)
            specs = [_spec(line, replay, links.get(line_key(line)))
                     for line in differences(issued, list(again.results[i].lines))]
            if i == len(replay.periods) - 1:
                specs += [_spec(line, replay, held_back=True)
                          for line in _held_back(moves.held_back, held_before, again.results[i].period.span, replay)]
            if specs:
                written.append(await write_adjustment(org_id, invoice, source="CORRECTION", reason=REASON, lines=specs,
                                                      issued_on=today))
        entries = [adjust(again.pools.get(key) or _core(replay, key), delta, today) for key, delta in moves.deltas.items()]
        if entries and not written:  # every ADJUST goes with a note: a later replay knows it as the contract's
            last = replay.periods[-1]
            written.append(await write_adjustment(org_id, replay.invoices[last.id], source="CORRECTION", reason=REASON,
                                                   lines=[_pools_only(again.results[-1].period.span)], issued_on=today))
        if entries:
            await append_entries(org_id, replay.rows, entries, adjustment_id=written[-1].id)
        await _keep(org_id, contract, replay, again.results, start)
        # the contract is locked: no late data can be stored for it meanwhile, so this is ``pending``
        await LateData.filter(organization_id=org_id, contract_id=contract.id, applied_at=None).update(
            applied_at=utc_now(), updated_at=utc_now())
    return CorrectionReport(written, len(pending))


def _core(replay: Replay, key: str) -> Pool:
    return core_pool(replay.rows[key])


async def _issued(org_id: int, invoice_id: int, replay: Replay) -> tuple[list[CoreLine], dict[LineKey, int]]:
    """What was issued for an invoice's period: its lines and its earlier corrections' lines, as the
    core reads them; and, by line key, the invoice line a correction's line corrects (it names it,
    so a goodwill credit note is bounded by what the line carries net of corrections)."""
    keys = {row.id: key for key, row in replay.rows.items()}
    # earlier corrections count as issued; a goodwill credit is not a billing figure (it stays given),
    # nor is what a shared balance could not give (``_held_back`` accounts for it across periods)
    adjustments = await Adjustment.filter(organization_id=org_id, invoice_id=invoice_id, source="CORRECTION") \
        .values_list("id", flat=True)
    rows = [*await InvoiceLine.filter(organization_id=org_id, invoice_id=invoice_id),
            *await AdjustmentLine.filter(organization_id=org_id, adjustment_id__in=list(adjustments), held_back=False)]
    lines = [CoreLine(type=LineType(r.type), amount=r.amount, description=r.description,
                      service_period=DateRange(r.service_start, r.service_end), product=r.product,
                      quantity=r.quantity, unit_amount=r.unit_amount, charge_key=r.charge_key,
                      commitment_key=str(r.commitment_id) if r.commitment_id else None,
                      pool_key=keys.get(r.pool_id) if r.pool_id else None,
                      window_index=r.window_number - 1 if r.window_number else None) for r in rows]
    links: dict[LineKey, int] = {}
    for row, line in zip(rows, lines):
        if isinstance(row, InvoiceLine):
            links.setdefault(line_key(line), row.id)
    return lines, links


async def _held_before(org_id: int, contract_id: int, replay: Replay) -> dict[str, Decimal]:
    """Per pool key: what the contract's earlier corrections billed as not drawn from it, net."""
    keys = {row.id: key for key, row in replay.rows.items()}
    adjustments = await Adjustment.filter(organization_id=org_id, contract_id=contract_id, source="CORRECTION") \
        .values_list("id", flat=True)
    out: dict[str, Decimal] = {}
    for pool_id, amount in await AdjustmentLine.filter(
            organization_id=org_id, adjustment_id__in=list(adjustments), held_back=True).values_list("pool_id", "amount"):
        if pool_id in keys:  # a held-back line always names the pool (one of the replay's)
            out[keys[pool_id]] = out.get(keys[pool_id], Decimal(0)) + amount
    return out


def _held_back(held: dict[str, Decimal], before: dict[str, Decimal], span: DateRange,
               replay: Replay) -> list[CoreLine]:
    """What a shared balance cannot give stays billed (``held``, per pool, in all): the change from
    what earlier corrections billed so (``before``). Positive: more is not drawn; negative: the
    balance gives now what it could not before (a top-up since), so that much is credited."""
    lines = []
    for key in sorted(set(held) | set(before)):
        change, name = held.get(key, Decimal(0)) - before.get(key, Decimal(0)), pool_label(_core(replay, key))
        if change > 0:
            description = f"not drawn: the {name} no longer holds it (used by another contract or expired)"
        elif change < 0:
            description = f"drawn now: the {name} gives what an earlier correction could not draw"
        else:
            continue
        lines.append(CoreLine(type=LineType.DRAWDOWN, amount=change, service_period=span, description=description,
                              pool_key=key))
    return lines


def _pools_only(span: DateRange) -> CoreLine:
    """The line of a correction that moves pools only (no billed figure differs): zero."""
    return CoreLine(type=LineType.DRAWDOWN, amount=Decimal(0), service_period=span,
                    description="correction of credit pools only (see the ADJUST entries)")


def _spec(line: CoreLine, replay: Replay, invoice_line_id: int | None = None, *,
          held_back: bool = False) -> AdjustmentLineSpec:
    return AdjustmentLineSpec(
        type=line.type, amount=line.amount, description=line.description, product=line.product,
        quantity=line.quantity, unit_amount=line.unit_amount, service_start=line.service_period.start,
        service_end=line.service_period.end, charge_key=line.charge_key, held_back=held_back,
        commitment_id=int(line.commitment_key) if line.commitment_key else None,
        pool_id=replay.rows[line.pool_key].id if line.pool_key else None,
        window_number=line.window_index + 1 if line.window_index is not None else None,
        invoice_line_id=invoice_line_id)


async def _keep(org_id: int, contract: Contract, replay: Replay, results, start: int) -> None:  # type: ignore[no-untyped-def]
    """The figures the closes keep for later periods, brought to the recomputed ones."""
    ids = [p.id for p in replay.periods[start:]]
    await PeriodUsage.filter(organization_id=org_id, billing_period_id__in=ids).delete()
    await RatedCharge.filter(organization_id=org_id, billing_period_id__in=ids).delete()
    for row, data, result in zip(replay.periods[start:], replay.data[start:], results[start:]):
        await PeriodUsage.bulk_create([PeriodUsage(organization_id=org_id, contract_id=contract.id,
                                                   billing_period_id=row.id, usage_class=u.usage_class,
                                                   quantity=u.quantity) for u in data.usage])
        await RatedCharge.bulk_create([RatedCharge(
            organization_id=org_id, contract_id=contract.id, billing_period_id=row.id, key=c.key, type=c.type.value,
            product=c.product, amount=c.amount, service_start=c.service_period.start,
            service_end=c.service_period.end, quantity=c.quantity, unit_amount=c.unit_amount, seq=c.seq)
            for c in result.charges])
        for w in result.windows:  # make-good (SPEC §18): what it carried, and what was recovered of it
            carried = {"carried": w.carried} if w.carried > 0 else {"carried": None, "recovered": None}
            await CommitmentWindow.filter(organization_id=org_id, commitment_id=int(w.commitment_key),
                                          number=w.window.number).update(
                measured=as_quantity(w.measurement.measured), shortfall=as_quantity(w.measurement.shortfall),
                updated_at=utc_now(), **carried)
            if w.carried_in is not None:
                await CommitmentWindow.filter(organization_id=org_id, commitment_id=int(w.commitment_key),
                                              number=w.carried_in.window.number).update(
                    recovered=w.carried_in.recovered, updated_at=utc_now())


async def pending_late(org_id: int, contract_ids: list[int] | None) -> dict[int, date]:
    """Contract id → the earliest day of its late data not yet applied (contracts with none absent);
    ``None``: every contract of the organization."""
    out: dict[int, date] = {}
    query = LateData.filter(organization_id=org_id, applied_at=None)
    if contract_ids is not None:
        query = query.filter(contract_id__in=contract_ids)
    for cid, day in await query.values_list("contract_id", "day"):
        out[cid] = min(day, out.get(cid, day))
    return out



async def correct_pending(org_id: int) -> list[CorrectionReport]:
    """Correct every contract of the organization with late data pending (the scheduled due-close
    run does this on every tick): one transaction per contract; a contract that fails is logged and
    left pending for the next tick, the others are corrected."""
    reports = []
    for contract_id in sorted(await pending_late(org_id, None)):
        try:
            reports.append(await correct_contract(org_id, contract_id))
        except Exception:  # noqa: BLE001 - one contract's failure must not stop the others
            log.exception("correction of contract %s failed; its late data stays pending", contract_id)
    return reports

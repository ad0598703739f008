"""Step 6 of a close (SPEC §9), for any number of closes at once: the one way closes are written.

``write_closes`` persists the billing core's results of many contracts' periods in a fixed number
of statements, whatever their number: the invoices (bulk insert, ids read back by period: an
invoice's billing period is unique), the new pools (``pools.insert_pools``), the ledger entries
with the pools' cached balances (``pools.append_entries_many``), the invoice lines, rated charges
and kept usage totals (``bulk.insert_rows``: COPY on PostgreSQL), the window results (one
UPDATE), the periods closed (one UPDATE) and the contracts with no open period left ENDED (one
query, one UPDATE). A single ``closePeriod`` writes through here too, as a list of one, so a period
is written the same way whoever closes it.

The caller holds the contracts' locks and runs this inside its transaction; a failure raises and
leaves the rollback (of the transaction or of a savepoint) to the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone

from app.billing.charges import UsageTotal
from app.billing.close import CloseResult
from app.billing.invoice import InvoiceLine as CoreInvoiceLine
from app.billing.ledger import Pool
from app.billing.money import as_quantity
from app.clock import utc_now
from app.db import aggregates
from app.db.bulk import insert_rows
from app.db.models import (
    BillingPeriod,
    CommitmentWindow,
    Contract,
    CreditPool,
    Invoice,
    InvoiceLine,
    PeriodUsage,
    RatedCharge,
)
from app.services.pools import append_entries_many, insert_pools, pool_row


@dataclass
class PendingClose:
    """One contract's period, closed by the billing core, not yet written.

    ``pool_rows`` are the rows of the pools the close read (the new pools' rows are added to it
    when written); ``usage`` is the period's usage totals, kept for the periods after it;
    ``carry_into`` maps a renewing commitment's key to its contract (``Gathered.carry_into``): a
    new pool of that commitment (a rollover carried into a renewal, SPEC §15) belongs to it."""

    contract: Contract
    row: BillingPeriod
    result: CloseResult
    pool_rows: dict[str, CreditPool]
    usage: Sequence[UsageTotal]
    carry_into: Mapping[str, int] = field(default_factory=dict)
    version: int = 1  # the contract version whose terms billed the period (SPEC §13)

    def contract_of(self, pool: Pool) -> int:
        """The contract a new pool of this close belongs to: a renewal's, or the one closed."""
        return self.carry_into.get(pool.commitment_key or "", self.contract.id)


async def write_closes(org_id: int, closes: Sequence[PendingClose]) -> list[Invoice]:
    """Write every close of ``closes`` (at most one per contract); their invoices, in order."""
    if not closes:
        return []
    invoices = await _invoices(org_id, closes)
    new_rows = [pool_row(org_id, c.contract.account_id, c.contract_of(p), c.contract.currency, p)
                for c in closes for p in c.result.pools if p.key not in c.pool_rows]
    created = await insert_pools(org_id, new_rows)
    for c in closes:
        c.pool_rows.update({p.key: created[p.key] for p in c.result.pools if p.key in created})
    await append_entries_many(org_id, [(c.pool_rows, c.result.entries, inv.id) for c, inv in zip(closes, invoices)])
    await insert_rows(InvoiceLine, [line for c, inv in zip(closes, invoices) for line in _lines(org_id, c, inv)])
    await insert_rows(RatedCharge, [
        dict(organization_id=org_id, contract_id=c.contract.id, billing_period_id=c.row.id, key=ch.key,
             type=ch.type.value, product=ch.product, amount=ch.amount, service_start=ch.service_period.start,
             service_end=ch.service_period.end, quantity=ch.quantity, unit_amount=ch.unit_amount, seq=ch.seq)
        for c in closes for ch in c.result.charges
    ])
    await insert_rows(PeriodUsage, [
        dict(organization_id=org_id, contract_id=c.contract.id, billing_period_id=c.row.id,
             usage_class=u.usage_class, quantity=u.quantity)
        for c in closes for u in c.usage
    ])
    await _settle_windows(org_id, closes)
    await _make_good_windows(org_id, closes)
    await _close_periods(org_id, closes)
    return invoices


async def _invoices(org_id: int, closes: Sequence[PendingClose]) -> list[Invoice]:
    """Insert the invoices; the rows, their ids read back by billing period (unique for kind PERIOD:
    an ACTIVATION invoice, SPEC §16, references the first period too)."""
    rows = []
    for c in closes:
        view = c.result.invoice
        rows.append(Invoice(
            organization_id=org_id, contract_id=c.contract.id, billing_period_id=c.row.id,
            number=invoice_number(c.contract.id, c.row.number), currency=c.contract.currency,
            period_start=c.row.start_date, period_end=c.row.end_date,
            charges_subtotal=view.charges_subtotal, drawdown_total=view.drawdown_total, total=view.total,
            version=c.version,
        ))
    await insert_rows(Invoice, rows)
    ids = dict(await Invoice.filter(organization_id=org_id, billing_period_id__in=[c.row.id for c in closes],
                                    kind="PERIOD").values_list("billing_period_id", "id"))
    for c, invoice in zip(closes, rows):
        invoice.id, invoice._saved_in_db = ids[c.row.id], True
    return rows


def invoice_number(contract_id: int, period_number: int) -> str:
    """One sequence per contract: ``INV-{contract}-{period:03d}``; the activation invoice is period 0."""
    return f"INV-{contract_id}-{period_number:03d}"


def invoice_line_rows(org_id: int, invoice_id: int, lines: Sequence[CoreInvoiceLine],
                      pool_ids: Mapping[str, int]) -> list[dict[str, Any]]:
    """The rows of an invoice's lines, in invoice order (``pool_ids``: pool key → row id)."""
    return [
        dict(
            organization_id=org_id, invoice_id=invoice_id, position=i, type=line.type.value, amount=line.amount,
            description=line.description[:300], product=line.product, quantity=line.quantity,
            unit_amount=line.unit_amount, service_start=line.service_period.start,
            service_end=line.service_period.end, charge_key=line.charge_key,
            commitment_id=int(line.commitment_key) if line.commitment_key else None,
            pool_id=pool_ids[line.pool_key] if line.pool_key else None,
            window_number=line.window_index + 1 if line.window_index is not None else None,
        )
        for i, line in enumerate(lines)
    ]


def _lines(org_id: int, c: PendingClose, invoice: Invoice) -> list[dict[str, Any]]:
    return invoice_line_rows(org_id, invoice.id, c.result.lines,
                             {line.pool_key: c.pool_rows[line.pool_key].id for line in c.result.lines if line.pool_key})


async def _settle_windows(org_id: int, closes: Sequence[PendingClose]) -> None:
    """Record what every ending window measured: one UPDATE (PostgreSQL: joined to the values as
    arrays; SQLite: one prepared UPDATE run once per window, in-process)."""
    settled = [(int(w.commitment_key), w.window.number, as_quantity(w.measurement.measured),
                as_quantity(w.measurement.shortfall)) for c in closes for w in c.result.windows]
    if not settled:
        return
    db = aggregates.client()
    table = CommitmentWindow._meta.db_table
    if aggregates.dialect(db) == "postgres":
        commitments, numbers, measured, shortfalls = (list(column) for column in zip(*settled))
        await db.execute_query(
            f"UPDATE {table} AS w SET settled = TRUE, measured = v.measured, shortfall = v.shortfall, updated_at = $6"
            " FROM unnest($1::int[], $2::int[], $3::numeric[], $4::numeric[]) AS v(commitment_id, number, measured,"
            " shortfall) WHERE w.organization_id = $5 AND w.commitment_id = v.commitment_id AND w.number = v.number",
            [commitments, numbers, measured, shortfalls, org_id, timezone.now()])
        return
    decimal = CommitmentWindow._meta.fields_map["measured"]
    now = CommitmentWindow._meta.fields_map["updated_at"].to_db_value(timezone.now(), None)
    await db.execute_many(
        f"UPDATE {table} SET settled = 1, measured = ?, shortfall = ?, updated_at = ?"
        " WHERE organization_id = ? AND commitment_id = ? AND number = ?",
        [[decimal.to_db_value(m, None), decimal.to_db_value(s, None), now, org_id, cid, n] for cid, n, m, s in settled])


async def _make_good_windows(org_id: int, closes: Sequence[PendingClose]) -> None:
    """Make-good (SPEC §18): a window that carried its shortfall records it (``carried``); the
    window it was carried from records what this window recovered of it (``recovered``). One
    UPDATE per such window; none for a close without a make-good commitment."""
    now = timezone.now()
    for c in closes:
        for w in c.result.windows:
            cid = int(w.commitment_key)
            if w.carried > 0:
                await CommitmentWindow.filter(organization_id=org_id, commitment_id=cid, number=w.window.number
                                              ).update(carried=w.carried, updated_at=now)
            if w.carried_in is not None:
                await CommitmentWindow.filter(organization_id=org_id, commitment_id=cid,
                                              number=w.carried_in.window.number
                                              ).update(recovered=w.carried_in.recovered, updated_at=now)


async def _close_periods(org_id: int, closes: Sequence[PendingClose]) -> None:
    """Mark the periods closed; a contract with no open period left is ENDED."""
    now, written = utc_now(), timezone.now()  # closed_at by the service's clock; updated_at as auto_now
    await BillingPeriod.filter(organization_id=org_id, id__in=[c.row.id for c in closes]).update(
        status="CLOSED", closed_at=now, updated_at=written)  # .update() bypasses auto_now
    contract_ids = [c.contract.id for c in closes]
    still_open = set(await BillingPeriod.filter(
        organization_id=org_id, contract_id__in=contract_ids, status="OPEN").distinct().values_list("contract_id", flat=True))
    ended = [cid for cid in contract_ids if cid not in still_open]
    if ended:
        await Contract.filter(organization_id=org_id, id__in=ended).update(status="ENDED", updated_at=written)
    for c in closes:
        c.row.status, c.row.closed_at, c.row.updated_at = "CLOSED", now, written
        if c.contract.id in ended:
            c.contract.status, c.contract.updated_at = "ENDED", written

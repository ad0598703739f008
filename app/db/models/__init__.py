"""All Tortoise models of the service (one app, label models)."""

from app.db.models.adjustments import Adjustment, AdjustmentLine
from app.db.models.balances import Balance, BalanceProduct
from app.db.models.catalog import PackageItem, Product
from app.db.models.commitments import (
    Commitment,
    CommitmentProduct,
    FeeDate,
    Penalty,
    PenaltyTier,
    RampStep,
)
from app.db.models.contracts import Contract, ContractVersion, Price, PriceTier, ServiceLine
from app.db.models.idempotency import IdempotencyRecord
from app.db.models.late_data import LateData
from app.db.models.invoices import Invoice, InvoiceLine, PeriodUsage, RatedCharge
from app.db.models.jobs import CloseRun, CloseRunChunk
from app.db.models.ledger import CreditPool, LedgerEntry
from app.db.models.lifecycle import BillingPeriod, CommitmentWindow
from app.db.models.usage import OneTimeCharge, UsageEvent
from app.db.models.tenancy import Account, ApiKey, Organization

__all__ = [
    "Adjustment",
    "AdjustmentLine",
    "BillingPeriod",
    "CloseRun",
    "CloseRunChunk",
    "CommitmentWindow",
    "IdempotencyRecord",
    "CreditPool",
    "Invoice",
    "LateData",
    "InvoiceLine",
    "LedgerEntry",
    "OneTimeCharge",
    "PeriodUsage",
    "RatedCharge",
    "UsageEvent",
    "Account",
    "ApiKey",
    "Balance",
    "BalanceProduct",
    "Commitment",
    "ContractVersion",
    "CommitmentProduct",
    "Contract",
    "FeeDate",
    "Organization",
    "PackageItem",
    "Penalty",
    "PenaltyTier",
    "Price",
    "PriceTier",
    "Product",
    "RampStep",
    "ServiceLine",
]

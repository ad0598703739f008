"""updated_at on every table that can change, and usage_event's index in timestamp order (README
"Syncing with the API").

Every tenant table but usage_event, and organization, get ``updated_at``: set by the ORM on save
(``auto_now``) and by the statements that bypass it (they set it themselves). Rows that exist get
``updated_at = created_at``: unchanged since they were created, as far as anyone can tell.
usage_event is written once and never updated, so it gets no column (a backfill would rewrite
millions of rows, and the ingest would write one more value per event); its createdAt stands for
both. Its new index (organization_id, occurred_at,
id) is the order of the usageEvents list: a page is a range scan of it, with or without filters.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


class AddUpdatedAt(ops.AddField):
    """``AddField`` of ``updated_at`` (``auto_now``, NOT NULL) to a table that may hold rows: they get
    updated_at = created_at. PostgreSQL: the column is added nullable, filled, then made NOT NULL.
    SQLite cannot add a NOT NULL column without a constant default, nor change one later without
    remaking the table: it gets the column with a constant default (never used: every write of
    the service sets the value), then filled."""

    def __init__(self, model_name: str) -> None:
        super().__init__(model_name=model_name, name="updated_at",
                         field=fields.DatetimeField(auto_now=True, auto_now_add=False))

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if not state_editor:
            return
        client = state_editor.client
        table = new_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
        if str(client.capabilities.dialect) == "postgres":
            await client.execute_script(f'ALTER TABLE "{table}" ADD COLUMN "updated_at" TIMESTAMPTZ;'
                                        f' UPDATE "{table}" SET "updated_at" = "created_at";'
                                        f' ALTER TABLE "{table}" ALTER COLUMN "updated_at" SET NOT NULL')
            return
        await client.execute_script(f'ALTER TABLE "{table}" ADD COLUMN "updated_at" TIMESTAMP NOT NULL'
                                    f" DEFAULT '1970-01-01 00:00:00+00:00'")
        await client.execute_script(f'UPDATE "{table}" SET "updated_at" = "created_at"')


class Migration(migrations.Migration):
    dependencies = [('models', '0008_usage_event_without_organization_index')]

    initial = False

    operations = [
        AddUpdatedAt('Account'),
        AddUpdatedAt('Balance'),
        AddUpdatedAt('BalanceProduct'),
        AddUpdatedAt('BillingPeriod'),
        AddUpdatedAt('CloseRun'),
        AddUpdatedAt('CloseRunChunk'),
        AddUpdatedAt('Commitment'),
        AddUpdatedAt('CommitmentProduct'),
        AddUpdatedAt('CommitmentWindow'),
        AddUpdatedAt('Contract'),
        AddUpdatedAt('CreditPool'),
        AddUpdatedAt('FeeDate'),
        AddUpdatedAt('Invoice'),
        AddUpdatedAt('InvoiceLine'),
        AddUpdatedAt('LedgerEntry'),
        AddUpdatedAt('OneTimeCharge'),
        AddUpdatedAt('Organization'),
        AddUpdatedAt('PackageItem'),
        AddUpdatedAt('Penalty'),
        AddUpdatedAt('PenaltyTier'),
        AddUpdatedAt('PeriodUsage'),
        AddUpdatedAt('Price'),
        AddUpdatedAt('PriceTier'),
        AddUpdatedAt('Product'),
        AddUpdatedAt('RampStep'),
        AddUpdatedAt('RatedCharge'),
        AddUpdatedAt('ServiceLine'),
        ops.AlterModelOptions(
            name='UsageEvent',
            options={'table': 'usage_event', 'app': 'models', 'unique_together': (('organization', 'idempotency_key'),), 'indexes': [Index(fields=['contract_id', 'day', 'usage_class_id']), Index(fields=['usage_class_id']), Index(fields=['organization_id', 'occurred_at', 'id'])], 'pk_attr': 'id', 'table_description': 'One metered event. day is the UTC day of occurred_at, the key of period aggregates. Stored'},
        ),
        ops.AddIndex(
            model_name='UsageEvent',
            index=Index(fields=['organization_id', 'occurred_at', 'id']),
        ),
    ]

"""Fees billed in advance (SPEC §16): a commitment's ``fee_timing`` (IN_ARREARS by default, so every
existing commitment bills as before) and an invoice's ``kind`` (PERIOD by default: every existing
invoice closed a period). An ACTIVATION invoice references the contract's first billing period, so
``invoice.billing_period_id`` is no longer unique by itself: the unique key becomes
(billing_period_id, kind), which still makes two concurrent closes of a period write one invoice.

On SQLite the AlterField rebuilds the table and loses its indexes (see
tests/db/test_foreign_key_indexes.py): the last step recreates them under their old names
(a no-op on PostgreSQL, where they were kept).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

_REINDEX = [
    'CREATE INDEX IF NOT EXISTS "idx_invoice_organiz_bcb19e" ON "invoice" ("organization_id")',
    'CREATE INDEX IF NOT EXISTS "idx_invoice_contrac_852610" ON "invoice" ("contract_id")',
]


class Migration(migrations.Migration):
    dependencies = [('models', '0012_contract_termination')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Commitment',
            name='fee_timing',
            field=fields.CharField(default='IN_ARREARS', db_default='IN_ARREARS', max_length=20),
        ),
        ops.AlterModelOptions(
            name='Invoice',
            options={'table': 'invoice', 'app': 'models', 'unique_together': (('billing_period', 'kind'),), 'indexes': [Index(fields=['contract_id'])], 'pk_attr': 'id', 'table_description': "An invoice: the close of one billing period (PERIOD) or a contract's activation (ACTIVATION)."},
        ),
        ops.AlterField(
            model_name='Invoice',
            name='billing_period',
            field=fields.ForeignKeyField('models.BillingPeriod', source_field='billing_period_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Invoice',
            name='kind',
            field=fields.CharField(default='PERIOD', db_default='PERIOD', max_length=20),
        ),
        ops.AddConstraint(
            model_name='Invoice',
            constraint=UniqueConstraint(fields=('billing_period', 'kind'), name=None),
        ),
        ops.RunSQL(_REINDEX, reverse_sql=[]),
    ]

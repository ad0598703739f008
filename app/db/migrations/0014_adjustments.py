"""Adjustments (SPEC §17): credit and debit notes linked to one invoice (``adjustment``, in the
invoice's currency) with their lines (``adjustment_line``, a goodwill line naming the invoice line it
credits), and ``ledger_entry.adjustment_id``: the correction's adjustment an ADJUST entry belongs to.
Every new foreign key is indexed (0005); an adjustment's number is unique in its organization.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0013_fee_timing_and_invoice_kind')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Adjustment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('invoice', fields.ForeignKeyField('models.Invoice', source_field='invoice_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=20)),
                ('source', fields.CharField(max_length=20)),
                ('number', fields.CharField(max_length=50)),
                ('currency', fields.CharField(max_length=3)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('total', fields.DecimalField(max_digits=32, decimal_places=12)),
                ('issued_on', fields.DateField()),
            ],
            options={'table': 'adjustment', 'app': 'models', 'unique_together': (('organization', 'number'),), 'indexes': [Index(fields=['invoice_id']), Index(fields=['contract_id'])], 'pk_attr': 'id', 'table_description': 'A CREDIT_NOTE (total <= 0) or DEBIT_NOTE (total > 0) on one invoice, from a CORRECTION or'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='AdjustmentLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('adjustment', fields.ForeignKeyField('models.Adjustment', source_field='adjustment_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('position', fields.IntField()),
                ('type', fields.CharField(max_length=20)),
                ('amount', fields.DecimalField(max_digits=32, decimal_places=12)),
                ('description', fields.CharField(default='', max_length=300)),
                ('product', fields.CharField(null=True, max_length=100)),
                ('quantity', fields.DecimalField(null=True, max_digits=32, decimal_places=12)),
                ('unit_amount', fields.DecimalField(null=True, max_digits=32, decimal_places=12)),
                ('service_start', fields.DateField()),
                ('service_end', fields.DateField()),
                ('charge_key', fields.CharField(null=True, max_length=200)),
                ('commitment', fields.ForeignKeyField('models.Commitment', source_field='commitment_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('pool', fields.ForeignKeyField('models.CreditPool', source_field='pool_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('window_number', fields.IntField(null=True)),
                ('invoice_line', fields.ForeignKeyField('models.InvoiceLine', source_field='invoice_line_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'adjustment_line', 'app': 'models', 'indexes': [Index(fields=['adjustment_id']), Index(fields=['commitment_id']), Index(fields=['pool_id']), Index(fields=['invoice_line_id'])], 'pk_attr': 'id', 'table_description': 'One line of an adjustment: the shape of an invoice line (negative on a credit note).'},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='adjustment',
            field=fields.ForeignKeyField('models.Adjustment', source_field='adjustment_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='LedgerEntry',
            index=Index(fields=['adjustment_id']),
        ),
    ]

"""Versioned terms (SPEC §13): contract_version holds each amended contract's terms per version,
and every invoice says which version it billed (existing invoices billed version 1: the contract as
activated, since an active contract could not be changed before).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_contract_renewal')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContractVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('effective_date', fields.DateField()),
                ('reason', fields.CharField(default='', max_length=500)),
                ('changes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('terms', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'contract_version', 'app': 'models', 'unique_together': (('contract', 'number'),), 'indexes': [Index(fields=['contract_id'])], 'pk_attr': 'id', 'table_description': 'The terms of an amended contract from ``effective_date`` on (SPEC §13): immutable once written.'},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='Invoice',
            name='version',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='Contract',
            name='version',
            field=fields.IntField(default=1),
        ),
    ]

"""Late data (SPEC §17): the organization's lateUsage rule and correctionWindowDays, and late_data, which
keeps each usage event or one-time charge stored for a closed period until a correction applies it.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_adjustments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LateData',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('contract', fields.ForeignKeyField('models.Contract', source_field='contract_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=20)),
                ('day', fields.DateField()),
                ('ref', fields.CharField(max_length=200)),
                ('usage_class_id', fields.IntField(null=True)),
                ('quantity', fields.DecimalField(null=True, max_digits=32, decimal_places=12)),
                ('amount', fields.DecimalField(null=True, max_digits=32, decimal_places=12)),
                ('applied_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'late_data', 'app': 'models', 'indexes': [Index(fields=['contract_id'])], 'pk_attr': 'id', 'table_description': 'One late usage event or one-time charge, pending until a correction applies it.'},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='Organization',
            name='correction_window_days',
            field=fields.IntField(default=60),
        ),
        ops.AddField(
            model_name='Organization',
            name='late_usage',
            field=fields.CharField(default='ADJUST', max_length=10),
        ),
    ]

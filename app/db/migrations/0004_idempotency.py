"""Idempotency records: the stored first response of a mutation sent with an idempotency key (issue 8)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_creation_order_and_close_grace')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=200)),
                ('mutation', fields.CharField(max_length=64)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('status', fields.CharField(max_length=16)),
                ('payload', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotency_record', 'app': 'models', 'unique_together': (('organization', 'key'),), 'indexes': [Index(fields=['organization_id', 'expires_at'])], 'pk_attr': 'id', 'table_description': 'One key of one organization: which mutation used it, with which arguments, and its answer.'},
            bases=['Model'],
        ),
    ]

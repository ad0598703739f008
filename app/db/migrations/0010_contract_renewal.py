"""Renewal (SPEC §15): a contract knows the contract it renews, a commitment the commitment it
renews. Both columns are nullable (no existing row renews anything) and indexed: a close looks up a
contract's successor by ``renews_id``, and a foreign key is never left unindexed (0005).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_updated_at_and_usage_event_order')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Commitment',
            name='renews',
            field=fields.ForeignKeyField('models.Commitment', source_field='renews_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='Commitment',
            index=Index(fields=['renews_id']),
        ),
        ops.AddField(
            model_name='Contract',
            name='renews',
            field=fields.ForeignKeyField('models.Contract', source_field='renews_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(
            model_name='Contract',
            index=Index(fields=['renews_id']),
        ),
    ]

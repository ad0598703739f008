"""Creation order as explicit per-contract sequences (SPEC §7) and the close grace (SPEC §12).

Existing rows are numbered in the order they were inserted, per contract.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

_BACKFILL = [
    f"UPDATE {table} SET seq = (SELECT COUNT(*) FROM {table} AS older"
    f" WHERE older.contract_id = {table}.contract_id AND older.id <= {table}.id)"
    for table in ("commitment", "service_line", "one_time_charge")
]


class Migration(migrations.Migration):
    dependencies = [('models', '0002_money_lifecycle')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Commitment',
            name='seq',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='OneTimeCharge',
            name='seq',
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name='Organization',
            name='close_grace_days',
            field=fields.IntField(default=1),
        ),
        ops.AddField(
            model_name='ServiceLine',
            name='seq',
            field=fields.IntField(default=0),
        ),
        ops.RunSQL(_BACKFILL, reverse_sql=[]),
    ]

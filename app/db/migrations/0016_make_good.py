"""Make-good commitments (SPEC §18): a commitment's ``make_good`` (false by default, so every
existing commitment settles as before), and on a window what its close carried into the next
window (``carried``) and what that window's excess recovered of it (``recovered``). Both are null
on windows that carried nothing.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0015_late_data')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Commitment',
            name='make_good',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='CommitmentWindow',
            name='carried',
            field=fields.DecimalField(max_digits=32, decimal_places=12, null=True),
        ),
        ops.AddField(
            model_name='CommitmentWindow',
            name='recovered',
            field=fields.DecimalField(max_digits=32, decimal_places=12, null=True),
        ),
    ]

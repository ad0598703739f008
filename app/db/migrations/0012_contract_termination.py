"""Termination (SPEC §14): a contract's early termination fee, and what a termination records —
the agreed end (``original_end_date``; ``end_date`` becomes the termination date), the date, when,
the reason, ``chargeRemaining``, whether the fee was waived and the credit consumed from each cut
window's pool (commitment id → amount). No foreign key, so no index to add.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0011_contract_versions')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Contract',
            name='early_termination_fee',
            field=fields.DecimalField(default=0, max_digits=32, decimal_places=12),
        ),
        ops.AddField(model_name='Contract', name='original_end_date', field=fields.DateField(null=True)),
        ops.AddField(model_name='Contract', name='terminated_on', field=fields.DateField(null=True)),
        ops.AddField(model_name='Contract', name='terminated_at', field=fields.DatetimeField(null=True)),
        ops.AddField(
            model_name='Contract', name='termination_reason', field=fields.CharField(max_length=500, null=True),
        ),
        ops.AddField(
            model_name='Contract', name='termination_charge_remaining', field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='Contract', name='termination_fee_waived', field=fields.BooleanField(default=False),
        ),
        ops.AddField(model_name='Contract', name='termination_consumed', field=fields.JSONField(default=dict)),
    ]

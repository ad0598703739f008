"""A correction's lines that bill credit a shared balance could not give (SPEC §17): ``held_back``
marks them (false on every existing line and on every other line), so a later correction knows what
it already billed that way and writes only the change."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0016_make_good')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AdjustmentLine',
            name='held_back',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]

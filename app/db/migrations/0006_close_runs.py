from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

from app.jobs.engine import install_job_engine


async def install_pgqueuer(apps, schema_editor):
    """PgQueuer's tables (README "Workers"), on PostgreSQL only; skipped where they exist."""
    await install_job_engine(schema_editor.client)

class Migration(migrations.Migration):
    dependencies = [('models', '0005_foreign_key_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CloseRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('as_of', fields.DateField()),
                ('status', fields.CharField(default='QUEUED', max_length=10)),
                ('chunks', fields.IntField()),
                ('chunks_done', fields.IntField(default=0)),
                ('closed', fields.IntField(default=0)),
                ('already_closed', fields.IntField(default=0)),
                ('failures', fields.TextField(default='[]', unique=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'close_run', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A due close of one organization as of a day: QUEUED, RUNNING, then DONE when every chunk'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='CloseRunChunk',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('run', fields.ForeignKeyField('models.CloseRun', source_field='run_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('chunk_no', fields.IntField()),
                ('closed', fields.IntField()),
                ('already_closed', fields.IntField()),
                ('failures', fields.TextField(default='[]', unique=False)),
            ],
            options={'table': 'close_run_chunk', 'app': 'models', 'unique_together': (('run', 'chunk_no'),), 'pk_attr': 'id', 'table_description': "What one chunk of a run closed, written once (the first time the chunk's job finishes)."},
            bases=['TenantModel'],
        ),
        ops.RunPython(install_pgqueuer, ops.RunPython.noop),
    ]

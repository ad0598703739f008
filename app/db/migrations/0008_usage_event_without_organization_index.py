"""usage_event loses its index on organization_id alone (bench/README.md "Bulk ingest").

The unique index on (organization_id, idempotency_key) already leads with organization_id, so the
single-column one was redundant: every inserted event paid for keeping it, and no query needs it
(the close and the reads go through (contract_id, day, usage_class_id); anything by organization
alone can use the unique index). Same index name on PostgreSQL and SQLite (the name Tortoise
generated for ``TenantModel.organization``'s ``db_index``); the models still declare it, the
migration state does not change.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0007_usage_event_without_foreign_keys')]

    initial = False

    operations = [
        ops.RunSQL('DROP INDEX IF EXISTS "idx_usage_event_organiz_b5a5a6"', reverse_sql=[]),
    ]

"""The status history becomes a table partitioned by month of status_time on PostgreSQL (apps.core.partitions)."""

from django.db import migrations

from apps.core.partitions import partition_table


def partition(apps, schema_editor):
    partition_table(schema_editor, apps.get_model("stations", "ConnectorStatusHistory"), "status_time")


class Migration(migrations.Migration):
    dependencies = [("stations", "0006_history_time_index_and_journal_link")]

    # Backwards leaves the table partitioned: the models read and write it the same either way.
    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]

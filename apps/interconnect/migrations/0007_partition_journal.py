"""The journal becomes a table partitioned by month on PostgreSQL (apps.core.partitions); SQLite is left as it is."""

from django.db import migrations

from apps.core.partitions import partition_table


def partition(apps, schema_editor):
    partition_table(schema_editor, apps.get_model("interconnect", "Exchange"), "created")


class Migration(migrations.Migration):
    dependencies = [
        ("interconnect", "0006_alter_rejectedrecord_exchange"),
        # Every foreign key into the journal is gone first: none can point into a partitioned table by id alone.
        ("charging", "0003_alter_commandattempt_exchange"),
        ("stations", "0006_history_time_index_and_journal_link"),
    ]

    # Backwards leaves the table partitioned: the models read and write it the same either way.
    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]

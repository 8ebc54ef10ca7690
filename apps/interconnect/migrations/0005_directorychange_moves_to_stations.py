"""DirectoryChange moves to the stations app; its table and rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("interconnect", "0004_record_exchange"),
        ("stations", "0005_directorychange"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DirectoryChange")],
            database_operations=[],
        ),
    ]

"""The database counter behind apps.core.serials: a cycling sequence on PostgreSQL, a one-row table elsewhere."""

from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE SEQUENCE IF NOT EXISTS hlht_serial MINVALUE 1 MAXVALUE 9999 CYCLE")
    else:
        schema_editor.execute(
            "CREATE TABLE IF NOT EXISTS hlht_serial (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)"
        )
        schema_editor.execute("INSERT INTO hlht_serial (id, n) VALUES (1, 0)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP SEQUENCE IF EXISTS hlht_serial")
    else:
        schema_editor.execute("DROP TABLE IF EXISTS hlht_serial")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]

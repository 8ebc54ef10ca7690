"""DirectoryChange comes over from interconnect: the state only, on the table interconnect created.

Its content type moves with it, so permissions granted on it and admin log entries keep pointing at the model.
"""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="stations", model="directorychange").exists():
        content_type.objects.filter(app_label="interconnect", model="directorychange").update(app_label="stations")


def restore_content_type(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="interconnect", model="directorychange").exists():
        content_type.objects.filter(app_label="stations", model="directorychange").update(app_label="interconnect")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("interconnect", "0004_record_exchange"),
        ("operators", "0004_pull_intervals_at_least_a_minute"),
        ("stations", "0004_equipment_connector_removed_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DirectoryChange",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("station_id", models.CharField(db_index=True, max_length=20, verbose_name="充电站ID")),
                        ("kind", models.CharField(max_length=10, verbose_name="对象")),
                        ("object_id", models.CharField(max_length=26, verbose_name="对象编码")),
                        (
                            "action",
                            models.CharField(
                                choices=[("created", "新增"), ("updated", "修改"), ("removed", "下线")],
                                max_length=8,
                                verbose_name="变化",
                            ),
                        ),
                        ("changes", models.JSONField(default=dict, verbose_name="字段变化")),
                        ("created", models.DateTimeField(auto_now_add=True, db_index=True, verbose_name="时间")),
                        (
                            "operator",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="directory_changes",
                                to="operators.operator",
                                verbose_name="运营商",
                            ),
                        ),
                        (
                            "run",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="changes",
                                to="interconnect.syncrun",
                                verbose_name="同步记录",
                            ),
                        ),
                        (
                            "exchange",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="changes",
                                to="interconnect.exchange",
                                verbose_name="报文",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "站点变更",
                        "verbose_name_plural": "站点变更",
                        "db_table": "interconnect_directorychange",
                        "ordering": ["-created", "-id"],
                        "indexes": [
                            models.Index(fields=["operator", "station_id", "-created"], name="dirchange_station")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]

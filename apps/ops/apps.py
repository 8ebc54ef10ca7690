"""App config for ops: the health checks, the metrics endpoint and beat's heartbeat."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    verbose_name = "运维"

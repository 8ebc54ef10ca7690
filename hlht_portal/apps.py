"""The project's own app config: wiring that needs every app loaded (beat's schedule, by import)."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "hlht_portal"
    verbose_name = "平台"

    def ready(self) -> None:
        from .beat import SCHEDULE
        from .celery import app

        app.conf.beat_schedule = SCHEDULE

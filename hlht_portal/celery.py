"""The Celery application; configuration comes from Django settings under the CELERY_ namespace."""

import os
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hlht_portal.settings")

app = Celery("hlht_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _django_logging(**_: object) -> None:
    """Workers and beat log through Django's LOGGING, like the web processes (one format, one LOG_LEVEL); with this
    receiver connected Celery leaves the root logger alone."""
    from django.conf import settings

    dictConfig(settings.LOGGING)

"""App config for core: shared base models, roles, exceptions."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "平台基础"

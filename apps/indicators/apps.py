"""App config for indicators: what operators are judged by, computed from the directory, statuses and orders."""

from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "apps.indicators"
    verbose_name = "监管指标"

"""App config for indicators: what operators are judged by, computed from the directory, statuses and orders."""

from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "apps.indicators"
    verbose_name = "监管指标"

    def ready(self) -> None:
        # The operator's own figures against the city's, on its page (the operators admin's extension point).
        from apps.operators.admin import OperatorAdmin

        from .views import operator_panel

        OperatorAdmin.extensions.panel("indicators", "监管指标（本运营商与全市）", operator_panel)

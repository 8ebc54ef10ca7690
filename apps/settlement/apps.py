"""App config for settlement: reconciliation with each operator (check_charge_orders) and its disputes."""

from django.apps import AppConfig


class SettlementConfig(AppConfig):
    name = "apps.settlement"
    verbose_name = "对账结算"

"""App config for charging: sessions the city platform starts for its drivers on operators' chargers (roaming)."""

from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "apps.charging"
    verbose_name = "漫游充电"

    def ready(self) -> None:
        from apps.orders.signals import portal_sessions_register

        from . import receivers  # noqa: F401  (connects the payment to the order push)
        from .selectors import portal_session_of

        portal_sessions_register(portal_session_of)  # the order push knows the sessions the portal started

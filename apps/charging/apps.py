"""App config for charging: sessions the city platform starts for its drivers on operators' chargers (roaming)."""

from django.apps import AppConfig


class ChargingConfig(AppConfig):
    name = "apps.charging"
    verbose_name = "漫游充电"

    def ready(self) -> None:
        from apps.orders.hooks import hooks_register

        from .selectors import portal_session_of
        from .services.payment import order_pay

        # The order push (below charging) learns the sessions the portal started, and calls order_pay by name in the
        # transaction that stores such an order's new revision: the driver is charged there, once.
        hooks_register(portal_session=portal_session_of, order_pay=order_pay)

"""App config for drivers: the EV drivers the city platform serves, their wallets and their notifications."""

from django.apps import AppConfig


class DriversConfig(AppConfig):
    name = "apps.drivers"
    verbose_name = "充电用户"

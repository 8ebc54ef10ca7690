"""App config for interconnect (the T/CEC 102 transport: the protocol server, the client, keys, journal, pulls)."""

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class InterconnectConfig(AppConfig):
    name = "apps.interconnect"
    verbose_name = "互联互通"

    def ready(self) -> None:
        # Each app plugs its protocol handlers and pull jobs in, as the admin finds each app's admin.py.
        autodiscover_modules("interfaces", "pulls")

"""App config for interconnect (the T/CEC 102 protocol server and client)."""

from django.apps import AppConfig


class InterconnectConfig(AppConfig):
    name = "apps.interconnect"
    verbose_name = "互联互通"

"""App config for pricing."""

from django.apps import AppConfig


class PricingConfig(AppConfig):
    name = "apps.pricing"
    verbose_name = "计费策略"

"""App config for onboarding: operators' applications, their review, keys handed over once, conformance checks."""

from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "apps.onboarding"
    verbose_name = "接入管理"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Onboarding's part of the operator page, through the operator admin's extension points.
        from .admin import extend_operator_admin

        extend_operator_admin()
        from . import jobs  # noqa: F401 - registers the conformance check's JobRunner

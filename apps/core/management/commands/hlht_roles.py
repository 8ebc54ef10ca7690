"""Create or refresh the role groups (regulator, operator_manager, platform_admin)."""

from django.core.management.base import BaseCommand

from apps.core.roles import ROLE_LABELS
from apps.core.services import roles_sync


class Command(BaseCommand):
    help = "Create or refresh the portal's role groups and their permissions (idempotent)."

    def handle(self, *args, **options):
        for name, count in roles_sync().items():
            self.stdout.write(f"{name} ({ROLE_LABELS[name]}): {count} permissions")

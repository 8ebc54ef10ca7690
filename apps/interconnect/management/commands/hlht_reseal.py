"""Re-encrypt every sealed secret under the first of HLHT_SECRET_KEYS (between adding a key and dropping one)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.secretbox import needs_reseal, seal, unseal
from apps.interconnect.models import OperatorKeySet, PeerToken

SEALED = {OperatorKeySet: ("operator_secret", "data_secret", "data_secret_iv", "sig_secret"), PeerToken: ("token",)}


class Command(BaseCommand):
    help = "Re-seal key sets and peer tokens with the newest key in HLHT_SECRET_KEYS."

    @transaction.atomic
    def handle(self, *args, **options):
        for model, columns in SEALED.items():
            changed = 0
            for row in model.objects.select_for_update():
                stale = [c for c in columns if getattr(row, c) and needs_reseal(getattr(row, c))]
                for column in stale:
                    setattr(row, column, seal(unseal(getattr(row, column))))
                if stale:
                    row.save(update_fields=stale)
                    changed += 1
            self.stdout.write(f"{model._meta.verbose_name}: {changed} re-sealed")

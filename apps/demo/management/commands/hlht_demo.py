"""Load the demo directory and print the demo logins."""

from django.core.management.base import BaseCommand

from apps.demo.data import DEMO_SEED, demo_load
from apps.indicators.tasks import indicators_compute_task


class Command(BaseCommand):
    help = "Load demo operators, stations, statuses, tariffs and orders (idempotent) and print demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEMO_SEED)

    def handle(self, *args, seed, **options):
        logins = demo_load(seed=seed)
        # The nightly indicators run, now: the explorer, the scorecard and the operators' panels show the seeded days
        # from the first minute instead of after the first midnight.
        indicators_compute_task()
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins (passwords are new on every run):"))
        for login in logins:
            self.stdout.write(f"  {login.role:18} user={login.username}  password={login.password}")

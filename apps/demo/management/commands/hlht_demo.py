"""Load the demo directory and print the demo logins."""

from django.core.management.base import BaseCommand

from apps.demo.data import DEMO_SEED, demo_load


class Command(BaseCommand):
    help = "Load demo operators, stations, statuses, tariffs and orders (idempotent) and print demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEMO_SEED)

    def handle(self, *args, seed, **options):
        logins = demo_load(seed=seed)
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Logins (passwords are new on every run):"))
        for login in logins:
            self.stdout.write(f"  {login.role:18} user={login.username}  password={login.password}")

"""manage.py hlht_indicators --date YYYY-MM-DD: one day's indicators (today: up to now), rolled up to its periods."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.indicators.services import indicators_compute_day


class Command(BaseCommand):
    help = "计算某一天的监管指标（当天计算到此刻），并重新汇总其所在的周、月、季度"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD（默认昨天）")

    def handle(self, *args, **options):
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date 应为 YYYY-MM-DD：{exc}") from None
        else:
            day = timezone.localdate() - timedelta(days=1)
        if day > timezone.localdate():
            raise CommandError(f"{day} 尚未到来")
        written = indicators_compute_day(day)
        self.stdout.write(f"{day}: {written} 条日指标")

"""Run one pull from one operator now, in the foreground, and print its summary as one JSON object."""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.interconnect.choices import RunStatus
from apps.interconnect.registry import PULL_JOBS
from apps.interconnect.scheduling import pull_run
from apps.operators.models import Operator
from apps.protocol.names import Interface


class Command(BaseCommand):
    help = "Run one of the registered pulls (query_stations_info, query_station_status, …) of an operator now."

    def add_arguments(self, parser):
        parser.add_argument("--operator-id", required=True)
        parser.add_argument("--interface", required=True, choices=sorted(PULL_JOBS))
        parser.add_argument(
            "--full", action="store_true", help=f"{Interface.QUERY_STATIONS_INFO} without LastQueryTime"
        )

    def handle(self, *args, operator_id, interface, full, **options):
        operator = Operator.objects.filter(pk=operator_id).first()
        if operator is None:
            raise CommandError(f"unknown operator {operator_id}")
        # Under the same lease as the scheduled pulls, so a manual run never overlaps a scheduled one.
        run = pull_run(operator=operator, interface=interface, full=full)  # a pull ignores options it does not take
        if run is None:
            busy = dict.fromkeys(["pages", "created", "updated", "unchanged", "rejected"], 0)
            summary = {
                "interface": interface,
                "status": "busy",
                **busy,
                "error": "该运营商的同一拉取正在进行，请稍后再试",
            }
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            raise SystemExit(1)
        summary = {
            "interface": run.interface,
            "status": run.status,
            "pages": run.pages,
            "created": run.created_count,
            "updated": run.updated_count,
            "unchanged": run.unchanged_count,
            "rejected": run.rejected_count,
            "error": run.error or None,
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if run.status != RunStatus.SUCCEEDED:
            raise SystemExit(1)

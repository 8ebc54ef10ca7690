"""Run the conformance check against one operator's platform and print the stored report as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from apps.onboarding.conformance import conformance_run
from apps.operators.models import Operator


class Command(BaseCommand):
    help = "Run the conformance check against an operator's platform; prints the report as JSON, exit 1 if it fails."

    def add_arguments(self, parser):
        parser.add_argument("--operator-id", required=True)

    def handle(self, *args, operator_id, **options):
        if not Operator.objects.filter(pk=operator_id).exists():
            raise CommandError(f"--operator-id {operator_id!r}: no such operator")
        report = conformance_run(operator_id=operator_id)
        self.stdout.write(json.dumps({
            "OperatorID": operator_id, "report": report.pk, "passed": report.passed,
            "started": report.started.isoformat(), "dialects_detected": report.dialects_detected,
            "checks": report.checks,
        }, ensure_ascii=False, indent=2))  # fmt: skip
        if not report.passed:
            raise SystemExit(1)

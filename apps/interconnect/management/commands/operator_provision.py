"""Create or update an operator's connection and print its two key sets as one JSON object."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.core.exceptions import ValidationFailed
from apps.core.validators import operator_id_validator
from apps.interconnect.services import operator_provision
from apps.operators.choices import OperatorKind, OperatorStatus


class Command(BaseCommand):
    help = (
        "Create or update an operator (default status active) and print "
        '{"OperatorID", "inbound": {...}, "outbound": {...}}. inbound = keys the portal issued (the operator uses '
        "them to call the portal); outbound = keys the operator issued (the portal uses them to call it)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--operator-id", required=True, help="9-character OperatorID")
        parser.add_argument("--name", required=True, help="OperatorName")
        parser.add_argument("--kind", choices=["operator", "consumer"], default=OperatorKind.OPERATOR)
        parser.add_argument("--endpoint", help="the operator's base URL, e.g. http://127.0.0.1:9001/evcs/v1/")
        parser.add_argument("--keys", type=Path, help="a JSON file of the printed shape, to set key sets explicitly")
        parser.add_argument("--status", choices=["active", "testing"], default=OperatorStatus.ACTIVE)
        parser.add_argument("--tel", help="OperatorTel1 (customer-service phone)")

    def handle(self, *args, operator_id, name, kind, endpoint, keys, status, tel, **options):
        try:
            operator_id_validator(operator_id)
        except Exception as exc:
            raise CommandError(f"--operator-id {operator_id!r}: must be 9 digits or capital letters") from exc
        key_values = None
        if keys is not None:
            try:
                key_values = json.loads(keys.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"--keys {keys}: {exc}") from exc
            if not isinstance(key_values, dict):
                raise CommandError(f"--keys {keys}: expected a JSON object")
        try:
            result = operator_provision(
                operator_id=operator_id,
                name=name,
                kind=kind,
                status=status,
                endpoint=endpoint,
                tel=tel,
                keys=key_values,
            )
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        except Exception as exc:
            if hasattr(exc, "message_dict"):
                raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
            raise
        self.stdout.write(json.dumps(result, ensure_ascii=False))

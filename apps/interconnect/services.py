"""Writes of the interconnect app that span operators and keys: provisioning a connection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction

from apps.core.exceptions import ValidationFailed
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator

from .choices import KeyDirection
from .keys import current_keyset, keys_validate, keyset_as_wire, keyset_install


@transaction.atomic
def operator_provision(
    *,
    operator_id: str,
    name: str,
    kind: str = OperatorKind.OPERATOR,
    status: str = OperatorStatus.ACTIVE,
    endpoint: str | None = None,
    tel: str | None = None,
    keys: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Create or update an operator and make sure both key sets exist; return them in the provisioning shape.

    `keys` (the same shape as the result) sets key sets explicitly, e.g. to move an existing connection; an
    explicit set replaces the current one at once. A direction without keys keeps its set, or gets a new one.
    """
    keys = keys or {}
    if keys.get("OperatorID") not in (None, operator_id):
        raise ValidationFailed(f"密钥文件属于 {keys['OperatorID']}，不是 {operator_id}", field="OperatorID")
    for direction in KeyDirection.values:
        if direction in keys:
            keys_validate(keys[direction])

    operator = Operator(operator_id=operator_id)
    existing = Operator.objects.filter(pk=operator_id).first()
    if existing is not None:
        operator = existing
    operator.operator_name = name
    operator.kind = kind
    operator.status = status
    if endpoint is not None:
        operator.endpoint_url = endpoint
    if tel is not None:
        operator.operator_tel1 = tel
    # Validate the fields provisioning sets; the rest (phones, address) may be completed later in the admin.
    operator.full_clean(exclude=["operator_tel1"], validate_unique=False)
    operator.save()

    result: dict[str, Any] = {"OperatorID": operator_id}
    for direction in KeyDirection.values:
        if direction in keys:
            # An explicit set is what the other side already uses: it replaces the current one at once.
            result[direction] = keyset_install(
                operator=operator, direction=direction, values=keys[direction], overlap=timedelta(0)
            )
        else:
            row = current_keyset(operator_id, direction)
            result[direction] = keyset_as_wire(row) if row else keyset_install(operator=operator, direction=direction)
    return result

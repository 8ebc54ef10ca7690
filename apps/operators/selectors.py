"""Reads of operator records."""

from .choices import CONNECTED_STATUSES
from .models import Operator


def operator_is_connected(operator_id: str) -> bool:
    """The live answer (not a cached object's): may this operator hold tokens and exchange messages now?"""
    return Operator.objects.filter(pk=operator_id, status__in=CONNECTED_STATUSES).exists()

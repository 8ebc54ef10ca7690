"""Read-only viewsets of settlement."""

from apps.core.api import ScopedReadOnlyViewSet
from apps.settlement.models import Dispute, ReconciliationRun

from . import filtersets, serializers


class ReconciliationRunViewSet(ScopedReadOnlyViewSet):
    """Each daily reconciliation (check_charge_orders) an operator sent and what the portal found."""

    model = ReconciliationRun
    serializer_class = serializers.ReconciliationRunSerializer
    filterset_class = filtersets.ReconciliationRunFilterSet
    ordering = ("-received_at", "-id")


class DisputeViewSet(ScopedReadOnlyViewSet):
    """Orders in dispute after a reconciliation, open or settled; an account manager sees only their own."""

    model = Dispute
    serializer_class = serializers.DisputeSerializer
    filterset_class = filtersets.DisputeFilterSet
    select_related = ("resolved_by",)
    ordering = ("-created", "-id")

"""Read-only viewsets of orders."""

from django.db.models import Prefetch

from apps.core.api import ScopedReadOnlyViewSet
from apps.orders.models import ChargeDetail, ChargeOrder, OrderFinding

from . import filtersets, serializers


class ChargeOrderViewSet(ScopedReadOnlyViewSet):
    """Charging orders as operators pushed them (the latest revision), with ChargeDetails; filter by operator,
    station, connector, day and dispute. An account manager sees only their operator's orders."""

    model = ChargeOrder
    serializer_class = serializers.ChargeOrderSerializer
    filterset_class = filtersets.ChargeOrderFilterSet
    ordering = ("-end_time", "-id")

    def get_queryset(self):
        details = Prefetch("details", queryset=ChargeDetail.objects.order_by("detail_start_time"))
        return super().get_queryset().prefetch_related(details)


class OrderFindingViewSet(ScopedReadOnlyViewSet):
    """What the checks found in orders: disputes (the operator's own figures disagree), prices, facilities."""

    model = OrderFinding
    serializer_class = serializers.OrderFindingSerializer
    filterset_class = filtersets.OrderFindingFilterSet
    select_related = ("order", "report")
    ordering = ("-created", "-id")

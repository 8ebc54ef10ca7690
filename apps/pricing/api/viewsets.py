"""Read-only viewsets of pricing."""

from django.db.models import Prefetch

from apps.core.api import ScopedReadOnlyViewSet
from apps.pricing.models import BusinessPolicy, PolicyPeriod

from . import filtersets, serializers


class BusinessPolicyViewSet(ScopedReadOnlyViewSet):
    """Every version of each connector's business policy as the operator declared it, newest first."""

    model = BusinessPolicy
    serializer_class = serializers.BusinessPolicySerializer
    filterset_class = filtersets.BusinessPolicyFilterSet
    select_related = ("connector",)
    ordering = ("-effective_from", "-id")

    def get_queryset(self):
        periods = Prefetch("periods", queryset=PolicyPeriod.objects.order_by("start_time"))
        return super().get_queryset().prefetch_related(periods)

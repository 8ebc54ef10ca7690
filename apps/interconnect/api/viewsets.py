"""Read-only viewsets of the interconnect app's pull records."""

from apps.core.api import ScopedReadOnlyViewSet
from apps.interconnect.models import RejectedRecord, SyncRun

from . import filtersets, serializers


class SyncRunViewSet(ScopedReadOnlyViewSet):
    """One row per pull from an operator (station crawl, status sweep, stats pull): outcome, counts, error."""

    model = SyncRun
    serializer_class = serializers.SyncRunSerializer
    filterset_class = filtersets.SyncRunFilterSet
    ordering = ("-started", "-id")


class RejectedRecordViewSet(ScopedReadOnlyViewSet):
    """Records an operator sent that broke a rule of the spec, with the rules and reasons; the rest was kept."""

    model = RejectedRecord
    serializer_class = serializers.RejectedRecordSerializer
    filterset_class = filtersets.RejectedRecordFilterSet
    ordering = ("-created", "-id")

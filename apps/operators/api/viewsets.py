"""Read-only viewsets of the operators app."""

from apps.core.api import ScopedReadOnlyViewSet
from apps.operators.models import Operator

from .filtersets import OperatorFilterSet
from .serializers import OperatorSerializer


class OperatorViewSet(ScopedReadOnlyViewSet):
    """Connected platforms (OperatorInfo). An operator's account manager sees only their own operator."""

    model = Operator
    serializer_class = OperatorSerializer
    filterset_class = OperatorFilterSet
    lookup_value_regex = "[0-9A-Z]{9}"

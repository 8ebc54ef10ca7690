"""Query filters of the operators endpoint."""

import django_filters
from django.db.models import QuerySet

from apps.core.api import updated_since_filter
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator


def scoped_operators(request) -> QuerySet[Operator]:
    """The operators a filter may name: those the user sees, so naming another operator is an invalid value."""
    if request is None:  # the schema generator builds filtersets without a request
        return Operator.objects.none()
    return Operator.objects.for_user(request.user)


def operator_filter(field_name: str = "operator") -> django_filters.ModelChoiceFilter:
    """Filter by OperatorID along `field_name`, the path from the filtered model to its operator."""
    return django_filters.ModelChoiceFilter(
        field_name=field_name, queryset=scoped_operators, label="运营商ID（OperatorID）"
    )


class OperatorFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OperatorKind.choices, label="类型")
    status = django_filters.ChoiceFilter(choices=OperatorStatus.choices, label="接入状态")
    updated_since = updated_since_filter()

    class Meta:
        model = Operator
        fields = []

"""Shared pieces of the read-only REST API: wire-name serializers, strict filters, the scoped viewset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.fields import IsoDateTimeField
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission

from apps.protocol.names import wire_name

from .paging import BoundedCountPaginator
from .roles import may


class EnumField(serializers.ChoiceField):
    """A ChoiceField that knows its enum, so the schema names it after the enum (`ConnectorStatusEnum`).

    drf-spectacular names an anonymous choice set after the property, and `Status` means a connector's status, an
    operator's lifecycle and a sync run's outcome; naming by enum keeps the three apart in the schema.
    """

    def __init__(self, enum: type[models.Choices], **kwargs: Any) -> None:
        self.enum = enum
        super().__init__(choices=enum.choices, **kwargs)


class EnumFieldSchema(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def get_name(self) -> str:
        # A field that may also be blank is another set of values: another component, not a collision.
        return f"{self.target.enum.__name__}{'OrBlank' if self._blank() else ''}Enum"

    def _blank(self) -> bool:
        return bool(getattr(self.target, "allow_blank", False)) and "" not in self.target.enum.values

    def map_serializer_field(self, auto_schema, direction) -> dict:
        enum = self.target.enum
        values: list[Any] = list(enum.values)
        lines = [f"* `{value}` - {label}" for value, label in enum.choices]
        # A field that may be "" (a dispute not yet resolved) says so, or the schema would call a true answer
        # invalid (schemathesis' response check found the open dispute's Resolution). null is drf-spectacular's
        # `nullable`, added beside the component.
        if self._blank():
            values.append("")
            lines.append("* `` - （空：尚无）")
        return {
            "type": "integer" if issubclass(enum, models.IntegerChoices) else "string",
            "enum": values,
            "description": "\n".join(lines),
        }


def rest_name(field_name: str) -> str:
    """The REST API's key for a model field: its wire name, spelled correctly. The standard's misspelling
    (`SevicePrice`, `TotalSeviceMoney`, …) belongs to the protocol's wire only; the models keep it so that a field
    reads as its wire name, and the REST API, which is not the wire, writes `ServicePrice`, `TotalServiceMoney`."""
    return wire_name(field_name).replace("Sevice", "Service")


class WireModelSerializer(serializers.ModelSerializer):
    """A read-only ModelSerializer whose keys are the wire names of its snake_case fields.

    Declare and list fields by their model (snake_case) names; each key of the output is `rest_name(name)`, every
    enum code gets its label beside it (`Status` → `StatusLabel`), and decimals are JSON numbers. `id`, the
    portal's own key that detail URLs use, keeps its name.
    """

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(field_class, serializers.DecimalField):
            # Power, energy and coordinates are Numbers in the spec; the settings keep DRF's string default for any
            # other API, so the API's serializers coerce per field.
            field_kwargs["coerce_to_string"] = False
        return field_class, field_kwargs

    def get_extra_kwargs(self) -> dict[str, dict[str, Any]]:
        extra = super().get_extra_kwargs()
        for name in self.Meta.fields:
            extra.setdefault(name, {})["read_only"] = True
        return extra

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = {}
        for name, field in super().get_fields().items():
            if name == "id":
                fields[name] = field
                continue
            if field.source is None:
                # Binding under the wire name would otherwise make the wire name the attribute to read.
                field.source = name
            key = rest_name(name)
            fields[key] = field
            if isinstance(field, serializers.ChoiceField):
                *path, last = field.source.split(".")
                fields[f"{key}Label"] = serializers.CharField(
                    source=".".join([*path, f"get_{last}_display"]), read_only=True, allow_null=field.allow_null
                )
        return fields


class StrictBooleanField(forms.Field):
    """true/false (or 1/0); anything else is an error, where django-filter's BooleanWidget would silently ignore it."""

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise ValidationError("请使用 true 或 false", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


# The widest offsets in use on Earth are −12:00 and +14:00; PostgreSQL refuses a displacement past ±15:59 with an
# error, and a moment past year 9999 (or before year 1) once in UTC cannot be computed at all.
_MAX_OFFSET = timedelta(hours=14)


class StrictIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment whose offset is a real one and that converts to UTC: anything else is the filter's 400."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        offset = moment.utcoffset()
        if offset is not None and abs(offset) > _MAX_OFFSET:
            raise ValidationError("时区偏移应在 -12:00 到 +14:00 之间", code="invalid")
        try:
            return moment.astimezone(UTC) if offset is not None else moment
        except OverflowError:
            raise ValidationError("时间超出可表示的范围", code="invalid") from None


class StrictIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = StrictIsoDateTimeField


def updated_since_filter() -> django_filters.IsoDateTimeFilter:
    return StrictIsoDateTimeFilter(
        field_name="updated", lookup_expr="gte", label="更新时间不早于（ISO 8601，如 2024-01-01T00:00:00+08:00）"
    )


class ApiPagination(PageNumberPagination):
    """50 rows a page as the settings say; scripts may ask for up to 500 with `page_size`."""

    page_size_query_param = "page_size"
    max_page_size = 500


class BoundedPagination(ApiPagination):
    """For tables of millions of rows (the status history): the count is bounded, then estimated, and pages stop at
    apps.core.paging.MAX_PAGES; filter by time or connector to reach older rows."""

    django_paginator_class = BoundedCountPaginator


# HTTP method → the action of the authorization rule (NetBox's TokenPermissions: a read needs `view`, where DRF's
# DjangoModelPermissions would let any authenticated user read).
METHOD_ACTIONS = {
    "GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change", "PATCH": "change",
    "DELETE": "delete",
}  # fmt: skip


def method_action(request) -> str:
    return METHOD_ACTIONS.get(request.method, "change")


class ModelActionPermission(BasePermission):
    """The permission half of `for_user(user, action)` for a viewset's `model`: a user who may not view it gets 403
    (401 without credentials), as the admin answers; the rows are then narrowed by the same rule."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and may(user, view.model, method_action(request)))


class ScopedReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """List and retrieve rows of `model` that the authorization rule lets the user see, with their relations joined.

    Token authentication comes first so that an anonymous script gets 401 with `WWW-Authenticate: Token`; the
    session serves people already logged into the admin.
    """

    model: ClassVar[type[models.Model]]
    select_related: ClassVar[tuple[str, ...]] = ()
    ordering: ClassVar[tuple[str, ...]] = ()
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [ModelActionPermission]
    pagination_class = ApiPagination

    def get_queryset(self) -> models.QuerySet:
        queryset = self.model.objects.for_user(self.request.user, method_action(self.request))
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.ordering:
            queryset = queryset.order_by(*self.ordering)
        return queryset

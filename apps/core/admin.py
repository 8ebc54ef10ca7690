"""Admin building blocks: the scope rule in every changelist, read-only operator data, import/export."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin


class ScopedAdminMixin:
    """Every changelist, change page, filter and export goes through `Model.objects.for_user`."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.for_user(request.user)


class AuditedAdmin(SimpleHistoryAdmin):
    """django-simple-history's pages (历史, one old version) behind the scope rule, and read-only.

    The library loads the object without the ModelAdmin's queryset and lets anyone who may view it POST an old
    version back, which would bypass read-only fields, the scope rule and every service: a record's history is
    evidence, so it is shown and never restored through the admin.
    """

    def _in_scope(self, request, object_id) -> None:
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404

    def history_view(self, request, object_id, extra_context=None):
        self._in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._in_scope(request, object_id)
        if request.method == "POST":
            raise PermissionDenied  # reverting is an edit that no rule would check
        return super().history_form_view(
            request, object_id, version_id, {**(extra_context or {}), "revert_disabled": True}
        )


class ReadOnlyAdminMixin(ScopedAdminMixin):
    """Scoped, and nobody adds, edits or deletes through the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OperatorDataAdminMixin(ReadOnlyAdminMixin):
    """Data an operator owns: regulators supervise it, they do not edit it. Changes arrive over the protocol
    (or a file import, for those who hold the import permission)."""


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# -- filters for tables of millions of rows ---------------------------------------------------------------------------
# Django's RelatedOnlyFieldListFilter and AllValuesFieldListFilter find their choices with SELECT DISTINCT over the
# whole table: on the journal or the status history, a full scan on every changelist page. These take their choices
# from a small table (the operators the user may see) or a fixed list instead.


def _filtered(queryset, lookup: str, value: str | None):
    """The filter applied; a value the column cannot hold (`?ret=abc`) is the admin's "incorrect lookup" notice."""
    if not value:
        return queryset
    try:
        return queryset.filter(**{lookup: value})
    except (ValueError, ValidationError) as exc:
        raise IncorrectLookupParameters(exc) from exc


def scoped_related_filter(field_path: str, title: str, model: type) -> type[admin.SimpleListFilter]:
    """Filter on `field_path` (a foreign key path) with the rows of `model` the user's scope shows as choices."""

    class ScopedRelatedFilter(admin.SimpleListFilter):
        parameter_name = field_path

        def lookups(self, request, model_admin):
            return [(str(obj.pk), str(obj)) for obj in model.objects.for_user(request.user)]

        def queryset(self, request, queryset):
            return _filtered(queryset, field_path, self.value())

    ScopedRelatedFilter.title = title
    return ScopedRelatedFilter


def fixed_choices_filter(field: str, title: str, choices: list[tuple[object, str]]) -> type[admin.SimpleListFilter]:
    """Filter on `field` among fixed `choices` ((value, label) pairs), never asking the table for its values."""

    class FixedChoicesFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return [(str(value), label) for value, label in choices]

        def queryset(self, request, queryset):
            return _filtered(queryset, field, self.value())

    FixedChoicesFilter.title = title
    return FixedChoicesFilter

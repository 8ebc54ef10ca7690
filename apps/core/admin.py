"""Admin building blocks: the authorization rule in every changelist, read-only operator data, import/export."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from .roles import may, scope_of


class ScopedAdminMixin:
    """Every changelist, change page, filter and export goes through `Model.objects.for_user(user, action)`: the
    model permission for the action and the row scope (apps.core.roles).

    Filters and form choices too: Django offers a relation's filter every row of the related table (the dispute
    list's 对账记录 filter named every operator's runs) and a foreign key's select every related row. Here a filter
    on a relation offers only related rows in the user's scope (scoped_list_filter), and a form's related choices
    are the related model's rows `for_user` (get_field_queryset, which Django asks for every foreign key and
    many-to-many field).
    """

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.for_user(request.user)

    def get_export_queryset(self, request):
        # The changelist's rows (filters and search applied), then the export permission of the same rule.
        return super().get_export_queryset(request).for_user(request.user, "export")

    def get_list_filter(self, request):
        return [scoped_list_filter(self.model, spec) for spec in super().get_list_filter(request)]

    def get_field_queryset(self, db, db_field, request):
        queryset = super().get_field_queryset(db, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(db).all()
        if hasattr(queryset, "for_user"):
            return queryset.for_user(request.user)
        if scope_of(request.user).city:
            return queryset
        return queryset.none()  # rows of an unscoped model are not offered to someone with a scope


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


# -- the scope rule in Django's own field filters ------------------------------------------------------------------


def _related_in_scope(field, request, model_admin, field_path: str, present_only: bool) -> Q:
    """Which related rows a relation's filter may offer: those the rule lets the user view of the related model (where
    it has a scope), and — for present_only, or a related model without a scope — those the changelist's own (scoped)
    rows refer to."""
    limit = Q()
    related = field.remote_field.model._default_manager.all()
    scoped = hasattr(related, "for_user")
    city = scope_of(request.user).city
    if scoped and not (city and may(request.user, related.model, "view")):
        # The related model's own rule (for_user would leave the city's rows whole: no subquery for them).
        limit &= Q(pk__in=related.for_user(request.user).values("pk"))
    elif not scoped and not city:
        present_only = True  # rows of an unscoped model: only those the (scoped) changelist refers to
    if present_only:
        present = model_admin.get_queryset(request).distinct().values_list(f"{field_path}__pk", flat=True)
        limit &= Q(pk__in=present)
    own = field.get_limit_choices_to()
    return limit & (own if isinstance(own, Q) else Q(**own))


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """Django's relation filter, offering only the related rows in the user's scope."""

    present_only = False

    def field_choices(self, field, request, model_admin):
        limit = _related_in_scope(field, request, model_admin, self.field_path, self.present_only)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to=limit, ordering=ordering)


class ScopedRelatedOnlyFieldListFilter(ScopedRelatedFieldListFilter):
    """Django's RelatedOnlyFieldListFilter (related rows the listed rows refer to), in the user's scope."""

    present_only = True


class ScopedAllValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """A plain field across a relation (`run__check_order_seq`): Django lists its values from the whole related
    table; these are the values of the rows the changelist shows, which are in scope."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        rows = model_admin.get_queryset(request).distinct().order_by(field_path)
        self.lookup_choices = rows.values_list(field_path, flat=True)


_SCOPED = {
    None: ScopedRelatedFieldListFilter,
    admin.RelatedFieldListFilter: ScopedRelatedFieldListFilter,
    admin.RelatedOnlyFieldListFilter: ScopedRelatedOnlyFieldListFilter,
}
_OWN_CHOICES = (models.BooleanField, models.DateField)  # Django's filters for these offer fixed choices


def scoped_list_filter(model: type[models.Model], spec):
    """`spec` (a list_filter entry) with Django's field filters that would read choices from a related table
    replaced by their scoped versions; SimpleListFilter classes keep their own lookups (scoped_related_filter,
    fixed_choices_filter)."""
    if isinstance(spec, str):
        path, chosen = spec, None
    elif isinstance(spec, tuple | list) and len(spec) == 2 and isinstance(spec[1], type):
        path, chosen = spec
    else:
        return spec
    fields = get_fields_from_path(model, path)
    field = fields[-1]
    if field.is_relation and chosen in _SCOPED:
        return (path, _SCOPED[chosen])
    values = not field.is_relation and not field.choices and not isinstance(field, _OWN_CHOICES)
    if len(fields) > 1 and values and chosen in (None, admin.AllValuesFieldListFilter):
        return (path, ScopedAllValuesFieldListFilter)
    return spec

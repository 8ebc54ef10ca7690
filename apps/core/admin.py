"""Admin building blocks: the authorization rule in every changelist, read-only operator data, import/export, and
the extension points through which an app above adds to a lower app's admin."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial, update_wrapper
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.template.loader import select_template
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from import_export.admin import ExportMixin as BaseExportMixin
from import_export.admin import ImportExportMixin as BaseImportExportMixin
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.admin import TabularInline
from unfold.contrib.import_export.forms import ExportForm, ImportForm

from .roles import may, scope_of

# -- the theme's bases: every ModelAdmin and inline of the portal stands on django-unfold's ---------------------------


class ModelAdmin(UnfoldModelAdmin):
    """django-unfold's ModelAdmin with the portal's defaults: lists use the whole width of the screen."""

    list_fullwidth = True
    list_filter_submit = True  # several filters are chosen, then applied once (each is a query on a large table)


class ExportMixin(BaseExportMixin):
    """django-import-export's export, its form drawn in the theme."""

    export_form_class = ExportForm


class ImportExportMixin(BaseImportExportMixin):
    """django-import-export's import and export, their forms drawn in the theme."""

    import_form_class = ImportForm
    export_form_class = ExportForm


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


class AuditedAdmin(SimpleHistoryAdmin, ModelAdmin):
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


class ReadOnlyInline(TabularInline):
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


# -- extension points: what an app above adds to a lower app's admin, by name -----------------------------------------
# An app never imports the apps above it, yet supervision adds health columns to the operator list and onboarding
# the conformance panel to the operator page. Instead of subclassing, unregistering and re-registering the lower
# admin, the upper app fills the lower admin's `extensions` in its AppConfig.ready(); the lower admin reads them on
# every request. Everything is named, so a reader finds who added a column by grepping its name.


@dataclass(frozen=True)
class Panel:
    """A titled block on the change page, drawn per request (it may show what this person may do)."""

    title: str
    render: Callable[[HttpRequest, Any], str]


@dataclass(frozen=True)
class ExtraFormField:
    """A form field that is not a model field, placed in a named fieldset after a named field, checked in clean()."""

    formfield: forms.Field
    fieldset: str
    after: str
    clean: Callable[[forms.ModelForm, dict[str, Any]], None]


@dataclass(frozen=True)
class Tool:
    """A button above the changelist, shown to whoever may view the list."""

    label: str
    url_name: str


@dataclass(frozen=True)
class ExtraUrl:
    """A page under the admin's URL (`<app>/<model>/<route>`), `view(model_admin, request, ...)`, named
    `admin:<app>_<model>_<name>`."""

    route: str
    name: str
    view: Callable[..., Any]


@dataclass
class AdminExtensions:
    """The registry of one ModelAdmin's extension points, each keyed by a name unique in that admin."""

    columns: dict[str, tuple[Callable[[Any], Any], str | None]] = field(default_factory=dict)
    filters: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    annotations: dict[str, Callable[[models.QuerySet], models.QuerySet]] = field(default_factory=dict)
    panels: dict[str, Panel] = field(default_factory=dict)
    form_fields: dict[str, ExtraFormField] = field(default_factory=dict)
    tools: dict[str, Tool] = field(default_factory=dict)
    urls: dict[str, ExtraUrl] = field(default_factory=dict)

    @staticmethod
    def _add(registry: dict, name: str, value: Any) -> None:
        if name in registry:
            raise ValueError(f"admin extension {name!r} is registered twice")
        registry[name] = value

    def column(self, name: str, display: Callable[[Any], Any], *, before: str | None = None) -> None:
        """A list_display column (a callable decorated with @admin.display), before the column `before` or last."""
        self._add(self.columns, name, (display, before))

    def list_filter(self, name: str, spec: Any, *, first: bool = False) -> None:
        self._add(self.filters, name, (spec, first))

    def annotate(self, name: str, annotate: Callable[[models.QuerySet], models.QuerySet]) -> None:
        """Annotations the added columns, filters and panels read, applied to the admin's queryset."""
        self._add(self.annotations, name, annotate)

    def panel(self, name: str, title: str, render: Callable[[HttpRequest, Any], str]) -> None:
        self._add(self.panels, name, Panel(title, render))

    def form_field(self, name: str, extra: ExtraFormField) -> None:
        self._add(self.form_fields, name, extra)

    def tool(self, name: str, label: str, url_name: str) -> None:
        self._add(self.tools, name, Tool(label, url_name))

    def url(self, name: str, route: str, view: Callable[..., Any]) -> None:
        self._add(self.urls, name, ExtraUrl(route, name, view))


class ExtensibleAdminMixin:
    """A ModelAdmin whose `extensions` apps above fill (see AdminExtensions). Each subclass gets its own registry."""

    extensions: AdminExtensions
    extension_form_template = "admin/extensible/change_form.html"
    extension_list_template = "admin/extensible/change_list.html"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "extensions" not in cls.__dict__:
            cls.extensions = AdminExtensions()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        for annotate in self.extensions.annotations.values():
            queryset = annotate(queryset)
        return queryset

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        for display, before in self.extensions.columns.values():
            columns.insert(columns.index(before) if before in columns else len(columns), display)
        return columns

    def get_list_filter(self, request):
        added = self.extensions.filters.values()
        return [
            *(spec for spec, first in added if first),
            *super().get_list_filter(request),
            *(spec for spec, first in added if not first),
        ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = copy.deepcopy(list(super().get_fieldsets(request, obj)))
        for name, extra in self.extensions.form_fields.items():
            for title, options in fieldsets:
                if title == extra.fieldset:
                    fields = list(options["fields"])
                    fields.insert(fields.index(extra.after) + 1 if extra.after in fields else len(fields), name)
                    options["fields"] = fields
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        extras = self.extensions.form_fields
        if not extras:
            return super().get_form(request, obj, change, **kwargs)
        base = kwargs.pop("form", self.form)

        def clean(form):
            cleaned = base.clean(form)
            for extra in extras.values():
                extra.clean(form, cleaned)
            return cleaned

        declared = {name: copy.deepcopy(extra.formfield) for name, extra in extras.items()}
        form = type(f"Extended{base.__name__}", (base,), {**declared, "clean": clean})
        return super().get_form(request, obj, change, form=form, **kwargs)

    def get_urls(self):
        opts = self.model._meta
        added: list[URLPattern] = []
        for extra in self.extensions.urls.values():
            view = update_wrapper(partial(extra.view, self), extra.view)
            added.append(
                path(
                    extra.route,
                    self.admin_site.admin_view(view),
                    name=f"{opts.app_label}_{opts.model_name}_{extra.name}",
                )
            )
        # Before the default URLs: "<path:object_id>/" would otherwise take "quality/" for a record's key.
        return [*added, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = getattr(response, "context_data", {}).get("original")
        if self.extensions.panels and obj is not None and isinstance(response, TemplateResponse):
            # Per request, never on the instance: a panel may show what this person may do.
            panels = [(panel.title, panel.render(request, obj)) for panel in self.extensions.panels.values()]
            self._extend_template(response, self.extension_form_template, extension_panels=panels)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self.extensions.tools and isinstance(response, TemplateResponse):
            tools = [(tool.label, reverse(f"admin:{tool.url_name}")) for tool in self.extensions.tools.values()]
            self._extend_template(response, self.extension_list_template, extension_tools=tools)
        return response

    @staticmethod
    def _extend_template(response: TemplateResponse, template: str, **context: Any) -> None:
        # The page keeps the template it would have had (import-export's list, a custom change form) and gains the
        # extensions: the extension template `{% extends %}` whichever that is.
        base = select_template(response.template_name) if not hasattr(response.template_name, "render") else None
        response.context_data.update(context, extension_base=base.template if base else response.template_name)
        response.template_name = template

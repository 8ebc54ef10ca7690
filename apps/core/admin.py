"""Admin building blocks: the scope rule in every changelist, read-only operator data, import/export."""

from __future__ import annotations

from django.contrib import admin


class ScopedAdminMixin:
    """Every changelist, change page, filter and export goes through `Model.objects.for_user`."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.for_user(request.user)


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

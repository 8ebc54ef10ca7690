"""Indicators in the admin: maintenance windows (operators declare them) and exemptions (regulators grant them)."""

from django.contrib import admin

from apps.core.admin import AuditedAdmin, ScopedAdminMixin

from .models import Exemption, MaintenanceWindow


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(ScopedAdminMixin, AuditedAdmin):
    list_display = ["station", "connector", "start", "end", "reason", "created", "declared_by"]
    list_filter = ["operator"]
    search_fields = ["station__station_id", "station__station_name", "connector__connector_id", "reason"]
    ordering = ["-start"]
    date_hierarchy = "start"
    list_select_related = ["station", "connector", "declared_by"]
    raw_id_fields = ["station", "connector"]
    readonly_fields = ["declared_by", "created"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.declared_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Exemption)
class ExemptionAdmin(ScopedAdminMixin, AuditedAdmin):
    list_display = ["operator", "station", "connector", "start", "end", "reason", "granted_by"]
    list_filter = ["operator"]
    search_fields = ["operator__operator_id", "station__station_id", "connector__connector_id", "reason"]
    ordering = ["-start"]
    date_hierarchy = "start"
    list_select_related = ["operator", "station", "connector", "granted_by"]
    raw_id_fields = ["station", "connector"]
    readonly_fields = ["granted_by", "created"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)

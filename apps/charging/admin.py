"""Roaming sessions in the admin: read-only, each with its events and the commands sent for it, drivers masked."""

from django.contrib import admin

from apps.core.admin import ModelAdmin, OperatorDataAdminMixin, ReadOnlyAdminMixin, ReadOnlyInline

from .models import ChargingSession, CommandAttempt, OutboundCommand, SessionEvent


class SessionEventInline(ReadOnlyInline):
    model = SessionEvent
    fields = ["at", "from_state", "to_state", "source", "note"]
    readonly_fields = fields


class OutboundCommandInline(ReadOnlyInline):
    model = OutboundCommand
    fields = ["created", "kind", "state", "attempts", "next_attempt_at", "last_error"]
    readonly_fields = fields


@admin.register(ChargingSession)
class ChargingSessionAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["start_charge_seq", "operator", "connector", "state", "outcome", "review", "requested_at",
                    "total_power", "total_money"]  # fmt: skip
    list_filter = ["state", "outcome", "review", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=start_charge_seq", "=connector__connector_id"]
    list_select_related = ["operator", "connector"]
    date_hierarchy = "requested_at"
    show_full_result_count = False
    exclude = ["driver"]  # the driver is the city platform's customer: the session says which one by its driver page
    readonly_fields = ["driver_masked"]
    inlines = [SessionEventInline, OutboundCommandInline]

    @admin.display(description="充电用户")
    def driver_masked(self, obj):
        return str(obj.driver)  # Driver.__str__ is the masked phone number


class CommandAttemptInline(ReadOnlyInline):
    model = CommandAttempt
    fields = ["at", "finished", "ok", "error", "exchange"]
    readonly_fields = fields


@admin.register(OutboundCommand)
class OutboundCommandAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["created", "session", "kind", "state", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["kind", "state"]
    search_fields = ["=session__start_charge_seq"]
    list_select_related = ["session"]
    inlines = [CommandAttemptInline]

"""Roaming sessions in the admin: read-only, each with its events and the commands sent for it, drivers masked."""

from django.contrib import admin

from apps.core.admin import (
    ModelAdmin,
    OperatorDataAdminMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    choice_column,
    energy_column,
    money_column,
    time_column,
)

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
    list_display = [
        "start_charge_seq",
        "operator",
        "connector",
        choice_column("state", "状态"),
        time_column("requested_at", "请求时间"),
        energy_column("total_power"),
        money_column("total_money"),
    ]
    list_filter = ["state", "outcome", "review", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=start_charge_seq", "=connector__connector_id"]
    list_select_related = ["operator", "connector__station"]
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
    list_display = [time_column("created", "时间"), "session", "kind", "state", "attempts",
                    time_column("next_attempt_at", "下次尝试"), "last_error"]  # fmt: skip
    list_filter = ["kind", "state"]
    search_fields = ["=session__start_charge_seq"]
    list_select_related = ["session"]
    inlines = [CommandAttemptInline]

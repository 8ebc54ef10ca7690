"""Drivers in the admin: regulators see accounts and ledgers, phone numbers and plates masked; nobody edits money.

Operators' staff never see the city platform's customers: the drivers' querysets return nothing for them."""

from decimal import Decimal

from django.contrib import admin

from apps.core.admin import ModelAdmin, ReadOnlyAdminMixin
from apps.core.privacy import mask_text

from .models import Driver, Notification, WalletEntry
from .selectors import drivers_with_balance


@admin.register(Driver)
class DriverAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["masked_phone", "masked_plate", "payment", "status", "balance", "created"]
    list_filter = ["payment", "status"]
    exclude = ["phone", "plate", "user"]
    readonly_fields = ["masked_phone", "masked_plate", "balance"]

    @admin.display(description="手机号码")
    def masked_phone(self, obj):
        return mask_text(obj.phone)

    @admin.display(description="车牌号")
    def masked_plate(self, obj):
        return mask_text(obj.plate) or "—"

    def get_queryset(self, request):
        return drivers_with_balance(super().get_queryset(request))

    @admin.display(description="余额（元）")
    def balance(self, obj):
        return obj.wallet_balance.quantize(Decimal("0.01"))


@admin.register(WalletEntry)
class WalletEntryAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["created", "driver", "kind", "amount", "balance_after", "start_charge_seq", "note"]
    list_filter = ["kind"]
    search_fields = ["=start_charge_seq"]
    list_select_related = ["driver"]
    date_hierarchy = "created"
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["created", "driver", "title", "body", "read"]
    list_select_related = ["driver"]

"""Admin for charging orders: each order with its details, every push it arrived by and what the checks found."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.html import format_html

from apps.core.admin import ExportMixin, ImportExportMixin, ModelAdmin, OperatorDataAdminMixin, ReadOnlyInline
from apps.core.privacy import mask_name
from apps.stations.models import Station

from .choices import FindingCategory
from .models import ChargeDetail, ChargeOrder, OrderFinding, OrderReport
from .resources import ChargeOrderResource, OrderFindingResource
from .rules import RULE_LABELS
from .selectors import station_matches


class ChargeDetailInline(ReadOnlyInline):
    model = ChargeDetail
    fields = [
        "detail_start_time",
        "detail_end_time",
        "elec_price",
        "sevice_price",
        "detail_power",
        "detail_elec_money",
        "detail_sevice_money",
    ]
    readonly_fields = fields
    show_change_link = False


class OrderReportInline(ReadOnlyInline):
    model = OrderReport
    fields = ["interface", "revision", "confirm_result_label", "received_at", "repeats", "timestamp", "seq"]
    readonly_fields = fields
    ordering = ["interface", "-revision"]

    @admin.display(description="确认结果")
    def confirm_result_label(self, obj):
        return obj.confirm_result_label


class OrderFindingInline(ReadOnlyInline):
    model = OrderFinding
    fields = ["category", "rule_label", "path", "message", "disputes", "report"]
    readonly_fields = fields
    show_change_link = False

    @admin.display(description="规则")
    def rule_label(self, obj):
        return RULE_LABELS.get(obj.rule, obj.rule)


class FindingFilter(admin.SimpleListFilter):
    """Orders whose latest checks found something, by kind: disputes, prices, facilities."""

    title = "核查结果"
    parameter_name = "finding"

    def lookups(self, request, model_admin):
        return [(c.value, c.label) for c in FindingCategory] + [("none", "无")]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        found = OrderFinding.objects.filter(order=OuterRef("pk"))
        if value == "none":
            return queryset.filter(~Exists(found))
        return queryset.filter(Exists(found.filter(category=value)))


class TimelinessFilter(admin.SimpleListFilter):
    """Order pushes that came later than the rules allow (≤30 s after the order's end; ≤150 s for the bonus)."""

    title = "上报时效"
    parameter_name = "late"
    LIMITS = {"order": ("order_received_at", 30), "bonus": ("bonus_received_at", 150)}

    def lookups(self, request, model_admin):
        return [("order", "订单推送超过30秒"), ("bonus", "奖励订单推送超过150秒")]

    def queryset(self, request, queryset):
        if self.value() not in self.LIMITS:
            return queryset
        from datetime import timedelta

        from django.db.models import F

        field, seconds = self.LIMITS[self.value()]
        return queryset.filter(**{f"{field}__gt": F("end_time") + timedelta(seconds=seconds)})


class StationFilter(admin.SimpleListFilter):
    """Orders at one station, offered once an operator is chosen (a city has thousands of stations)."""

    title = "充电站"
    parameter_name = "station"
    OPERATOR_PARAMETER = "operator__operator_id__exact"  # the operator filter's own parameter
    LIMIT = 500

    def lookups(self, request, model_admin):
        operator = request.GET.get(self.OPERATOR_PARAMETER)
        if not operator:
            # Django applies only the filters it shows: a station given by a link is shown by itself.
            return [(self.value(), self.value())] if self.value() else []
        stations = Station.objects.for_user(request.user).filter(operator_id=operator[:9])
        rows = stations.order_by("station_id").values_list("station_id", "station_name")[: self.LIMIT]
        return [(code, f"{code} {name}") for code, name in rows]

    def queryset(self, request, queryset):
        return queryset.filter(station_matches(self.value())) if self.value() else queryset


@admin.register(ChargeOrder)
class ChargeOrderAdmin(OperatorDataAdminMixin, ImportExportMixin, ModelAdmin):
    resource_classes = [ChargeOrderResource]
    list_display = [
        "start_charge_seq",
        "operator",
        "connector_code",
        "start_charge_seq_stat",
        "charge_model",
        "start_time",
        "end_time",
        "total_power",
        "total_money",
        "confirm_result_label",
        "delay",
    ]
    list_filter = [
        FindingFilter,
        "confirm_result",
        TimelinessFilter,
        "charge_model",
        "start_charge_seq_stat",
        "stop_reason",
        ("operator", admin.RelatedOnlyFieldListFilter),
        StationFilter,
    ]
    search_fields = ["=start_charge_seq", "=connector_code", "=station_code", "connector__station__station_id"]
    list_select_related = ["operator"]
    ordering = ["-end_time"]
    date_hierarchy = "end_time"
    show_full_result_count = False
    inlines = [OrderFindingInline, OrderReportInline, ChargeDetailInline]
    # The customer's name is shown masked, as in the API, the journal and exports: nobody here needs it whole.
    exclude = ["user_name"]
    readonly_fields = ["masked_user_name"]

    @admin.display(description="客户名称")
    def masked_user_name(self, obj):
        return mask_name(obj.user_name) or "—"

    @admin.display(description="确认结果", ordering="confirm_result")
    def confirm_result_label(self, obj):
        label = obj.confirm_result_label
        return format_html('<strong style="color:#ba2121">{}</strong>', label) if obj.disputed else label

    @admin.display(description="推送延迟", ordering="order_received_at")
    def delay(self, obj):
        if obj.order_received_at is None or obj.end_time is None:
            return "—"
        seconds = (obj.order_received_at - obj.end_time).total_seconds()
        text = f"{seconds:.0f} 秒"
        return format_html('<span style="color:#ba2121">{}</span>', text) if seconds > 30 else text


@admin.register(OrderFinding)
class OrderFindingAdmin(OperatorDataAdminMixin, ExportMixin, ModelAdmin):
    resource_classes = [OrderFindingResource]
    list_display = ["created", "order", "operator", "category", "rule_label", "disputes", "message"]
    list_filter = ["category", "disputes", "rule", ("order__operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=order__start_charge_seq", "=rule"]
    list_select_related = ["order__operator"]
    ordering = ["-created"]
    date_hierarchy = "created"
    show_full_result_count = False

    @admin.display(description="运营商")
    def operator(self, obj):
        return obj.order.operator

    @admin.display(description="规则", ordering="rule")
    def rule_label(self, obj):
        return RULE_LABELS.get(obj.rule, obj.rule)


@admin.register(OrderReport)
class OrderReportAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["received_at", "order", "interface", "revision", "confirm_result", "repeats"]
    list_filter = ["interface", "confirm_result", ("order__operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=order__start_charge_seq"]
    list_select_related = ["order"]
    ordering = ["-received_at"]
    date_hierarchy = "received_at"
    show_full_result_count = False


@admin.register(ChargeDetail)
class ChargeDetailAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = [
        "order",
        "detail_start_time",
        "detail_end_time",
        "detail_power",
        "detail_elec_money",
        "detail_sevice_money",
    ]
    search_fields = ["=order__start_charge_seq"]
    list_select_related = ["order"]
    ordering = ["-detail_start_time"]
    date_hierarchy = "detail_start_time"
    show_full_result_count = False

"""Admin for tariffs: policy versions with their periods and what changed, a connector's price at any moment, and
the daily policy checks; import/export by period rows."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html

from apps.core.admin import ImportExportMixin, ModelAdmin, OperatorDataAdminMixin, ReadOnlyAdminMixin, ReadOnlyInline
from apps.operators.models import Operator
from apps.stations.models import Connector

from .models import BusinessPolicy, PolicyCheck, PolicyPeriod
from .resources import PolicyPeriodResource
from .rules import published_fee_mismatches
from .selectors import connector_price_at, policies_with_periods, version_at, versions_of


class PolicyPeriodInline(ReadOnlyInline):
    model = PolicyPeriod
    fields = ["start_time", "elec_price", "sevice_price"]
    readonly_fields = fields
    show_change_link = False


def _periods_text(policy: BusinessPolicy) -> str:
    return "；".join(
        f"{p.start_time[:2]}:{p.start_time[2:4]} {p.elec_price}+{p.sevice_price}" for p in policy.periods.all()
    )


class PriceAtForm(forms.Form):
    operator = forms.ModelChoiceField(label="运营商", queryset=Operator.objects.none())
    connector_id = forms.CharField(label="充电设备接口编码", max_length=26)
    moment = forms.DateTimeField(
        label="时间", input_formats=["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"], help_text="yyyy-MM-dd HH:mm[:ss]，北京时间"
    )

    def __init__(self, *args, operators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = operators


@admin.register(BusinessPolicy)
class BusinessPolicyAdmin(OperatorDataAdminMixin, ModelAdmin):
    list_display = ["connector", "operator", "effective_from", "period_count", "published", "source"]
    fields = ["connector", "operator", "effective_from", "source", "equip_biz_seq", "change", "published"]
    readonly_fields = fields
    list_filter = ["source", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=connector__connector_id", "=equip_biz_seq", "connector__station__station_id"]
    list_select_related = ["connector__station", "operator"]
    ordering = ["-effective_from"]
    date_hierarchy = "effective_from"
    inlines = [PolicyPeriodInline]
    change_list_template = "admin/pricing/businesspolicy/change_list.html"

    def get_queryset(self, request):
        return policies_with_periods(super().get_queryset(request)).annotate(_periods=Count("periods"))

    @admin.display(description="时段数", ordering="_periods")
    def period_count(self, obj):
        return obj._periods

    @admin.display(description="与上一版相比")
    def change(self, obj):
        previous = (
            policies_with_periods(BusinessPolicy.objects.filter(connector_id=obj.connector_id))
            .filter(effective_from__lt=obj.effective_from)
            .order_by("-effective_from")
            .first()
        )
        if previous is None:
            return "首个版本"
        return format_html('<span title="上一版（{}）：{}">{}</span>', f"{previous.effective_from:%Y-%m-%d %H:%M}",
                           _periods_text(previous), _periods_text(obj))  # fmt: skip

    @admin.display(description="与公示费率")
    def published(self, obj):
        reasons = published_fee_mismatches(obj.connector.station, obj.periods.all())
        if not reasons:
            return "一致"
        return format_html('<strong style="color:#ba2121" title="{}">不符</strong>', "；".join(reasons))

    def get_urls(self):
        price = path(
            "price/", self.admin_site.admin_view(self.price_view), name=f"{self.opts.app_label}_businesspolicy_price"
        )
        return [price, *super().get_urls()]

    def price_view(self, request: HttpRequest) -> TemplateResponse:
        """What one connector cost at a moment: the version in force, its period and prices."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        operators = Operator.objects.for_user(request.user)
        form = PriceAtForm(request.GET or None, operators=operators)
        result, error = None, ""
        if form.is_valid():
            connector = (
                Connector.objects.for_user(request.user)
                .filter(operator=form.cleaned_data["operator"], connector_id=form.cleaned_data["connector_id"])
                .select_related("station")
                .first()
            )
            moment = form.cleaned_data["moment"]
            if connector is None:
                error = "该运营商没有这个充电设备接口编码（或不在您的查看范围内）"
            else:
                price = connector_price_at(connector.pk, moment)
                versions = versions_of([connector.pk]).get(connector.pk, [])
                policy = version_at(versions, moment)
                result = {"connector": connector, "moment": moment, "price": price, "policy": policy,
                          "versions": versions, "mismatches": published_fee_mismatches(connector.station,
                          policy.periods.all()) if policy else []}  # fmt: skip
                if price is None:
                    error = "该时间没有在用的业务策略（平台在此之后才获取到该接口的策略，或从未获取）"
        context = {
            **self.admin_site.each_context(request),
            "title": "查询充电接口在某一时刻的价格",
            "opts": self.opts,
            "form": form,
            "result": result,
            "error": error,
            "now": timezone.localtime(),
        }
        return TemplateResponse(request, "admin/pricing/price_at.html", context)


@admin.register(PolicyPeriod)
class PolicyPeriodAdmin(OperatorDataAdminMixin, ImportExportMixin, ModelAdmin):
    """The import/export face of pricing: one row per PolicyInfo."""

    resource_classes = [PolicyPeriodResource]
    list_display = ["policy", "start_time", "elec_price", "sevice_price"]
    list_filter = [("policy__operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["policy__connector__connector_id"]
    list_select_related = ["policy__connector"]
    ordering = ["-policy__effective_from", "start_time"]
    show_full_result_count = False


@admin.register(PolicyCheck)
class PolicyCheckAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["connector", "operator", "checked_at", "succ_stat", "fail_reason", "policy"]
    list_filter = ["succ_stat", "fail_reason", ("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=connector__connector_id"]
    # The policy prints as its connector: without policy__connector every row asked for it again.
    list_select_related = ["connector", "operator", "policy__connector"]
    ordering = ["-checked_at"]
    date_hierarchy = "checked_at"
    show_full_result_count = False

"""Admin for reconciliation: runs with their counts, disputes with a resolve page and their history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin import AuditedAdmin, ExportMixin, ModelAdmin, ReadOnlyAdminMixin, ReadOnlyInline, ScopedAdminMixin
from apps.core.exceptions import HLHTError

from .choices import DisputeState, StatementState
from .forms import DisputeResolveForm, StatementPayForm
from .models import Dispute, ReconciliationRun, SettlementAgreement, Statement
from .resources import DisputeResource, ReconciliationRunResource, StatementResource
from .services import dispute_resolve
from .statements import statement_confirm, statement_pay


class DisputeInline(ReadOnlyInline):
    model = Dispute
    fields = ["start_charge_seq", "reason", "operator_power", "operator_money", "portal_power", "portal_money", "state"]
    readonly_fields = fields
    ordering = ["start_charge_seq"]

    def get_queryset(self, request):
        # A run may find thousands: the page shows the first ones, the dispute list has them all.
        ids = super().get_queryset(request).order_by("start_charge_seq").values("pk")[:200]
        return super().get_queryset(request).filter(pk__in=ids)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, ExportMixin, ModelAdmin):
    resource_classes = [ReconciliationRunResource]
    list_display = [
        "received_at", "operator", "period", "order_count", "portal_order_count", "matched_count", "dispute_link",
        "missing_at_portal_count", "missing_at_operator_count", "total_dispute_money", "duration",
    ]  # fmt: skip
    list_filter = [("operator", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=check_order_seq", "=operator__operator_id"]
    list_select_related = ["operator"]
    ordering = ["-received_at"]
    date_hierarchy = "end_time"
    inlines = [DisputeInline]
    exclude = ["answer"]
    readonly_fields = ["request_link"]

    @admin.display(description="请求内容")
    def request_link(self, obj):
        if obj is None or not obj.request_data:
            return "—"
        url = reverse("admin:settlement_reconciliationrun_request", args=[obj.pk])
        return format_html('<a class="button" href="{}">下载运营商对账单（JSON）</a>', url)

    def get_urls(self):
        request = path(
            "<int:pk>/request.json",
            self.admin_site.admin_view(self.request_view),
            name="settlement_reconciliationrun_request",
        )
        return [request, *super().get_urls()]

    def request_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The operator's list as it arrived, for whoever may see the run (the scope rule decides)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(self.get_queryset(request), pk=pk)
        response = HttpResponse(run.request_json(), content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="check_charge_orders-{run.pk}.json"'
        return response

    @admin.display(description="账单期间", ordering="start_time")
    def period(self, obj):
        return f"{obj.start_time:%Y-%m-%d %H:%M} – {obj.end_time:%Y-%m-%d %H:%M}"

    @admin.display(description="争议", ordering="dispute_count")
    def dispute_link(self, obj):
        if not obj.dispute_count:
            return 0
        url = reverse("admin:settlement_dispute_changelist")
        return format_html('<a href="{}?run__id__exact={}">{}</a>', url, obj.pk, obj.dispute_count)

    @admin.display(description="耗时")
    def duration(self, obj):
        return f"{obj.duration_ms / 1000:.1f} s"


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdminMixin, ExportMixin, AuditedAdmin):
    """Disputes are settled on their own page (a choice and a comment), never edited; the history shows each step."""

    resource_classes = [DisputeResource]
    list_display = [
        "start_charge_seq", "operator", "reason", "operator_money", "portal_money", "operator_power", "portal_power",
        "state", "resolution", "created",
    ]  # fmt: skip
    list_filter = ["state", "reason", "resolution", ("operator", admin.RelatedOnlyFieldListFilter), "run"]
    search_fields = ["=start_charge_seq", "=run__check_order_seq"]
    list_select_related = ["operator"]
    ordering = ["-created"]
    date_hierarchy = "created"
    show_full_result_count = False
    readonly_fields = ["resolve_link"]
    history_list_display = ["state", "resolution", "settled_money", "comment"]

    @admin.display(description="处理")
    def resolve_link(self, obj):
        if obj is None or obj.state != DisputeState.OPEN:
            return "—"
        url = reverse("admin:settlement_dispute_resolve", args=[obj.pk])
        return format_html('<a class="button" href="{}">处理该争议</a>', url)

    def get_fields(self, request, obj=None):
        return [*[f for f in super().get_fields(request, obj) if f != "resolve_link"], "resolve_link"]

    def get_urls(self):
        resolve = path(
            "<int:pk>/resolve/", self.admin_site.admin_view(self.resolve_view), name="settlement_dispute_resolve"
        )
        return [resolve, *super().get_urls()]

    def has_resolve_permission(self, request) -> bool:
        return request.user.has_perm("settlement.resolve_dispute")

    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Accept the operator's figure, the portal's, or write the order off; the comment is mandatory."""
        if not self.has_resolve_permission(request):
            raise PermissionDenied
        dispute = get_object_or_404(self.get_queryset(request), pk=pk)  # the scope rule: own disputes only
        form = DisputeResolveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                dispute_resolve(
                    dispute=dispute,
                    resolution=form.cleaned_data["resolution"],
                    comment=form.cleaned_data["comment"],
                    user=request.user,
                )
            except HLHTError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"争议交易 {dispute.start_charge_seq} 已处理。", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:settlement_dispute_change", args=[dispute.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"处理争议交易 {dispute.start_charge_seq}",
            "opts": self.opts,
            "dispute": dispute,
            "form": form,
        }
        return TemplateResponse(request, "admin/settlement/dispute_resolve.html", context)


@admin.register(SettlementAgreement)
class SettlementAgreementAdmin(ScopedAdminMixin, AuditedAdmin):
    """Agreements are the platform's to write (platform admins); regulators and account managers read them."""

    list_display = ["operator", "period", "commission_rate", "effective_from", "effective_to"]
    list_filter = ["period", ("operator", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["operator"]


@admin.register(Statement)
class StatementAdmin(ReadOnlyAdminMixin, ExportMixin, AuditedAdmin):
    """Statements are made by the nightly task; people confirm them and record the payment, never edit figures."""

    resource_classes = [StatementResource]
    list_display = ["operator", "period_start", "period_end", "order_count", "total_power", "total_money",
                    "commission", "net_payable", "disputes_open", "state"]  # fmt: skip
    list_filter = ["state", ("operator", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["operator"]
    date_hierarchy = "period_start"
    actions = ["confirm"]
    readonly_fields = ["pay_link"]
    history_list_display = ["state", "confirmed_by", "paid_by", "payment_reference"]

    @admin.action(description="确认所选结算单", permissions=["confirm"])
    def confirm(self, request, queryset):
        done = 0
        for statement in queryset:
            try:
                statement_confirm(statement=statement, user=request.user)
                done += 1
            except HLHTError as exc:
                self.message_user(request, f"{statement}：{exc.message}", messages.WARNING)
        if done:
            self.message_user(request, f"已确认 {done} 张结算单。", messages.SUCCESS)

    def has_confirm_permission(self, request) -> bool:
        return request.user.has_perm("settlement.confirm_statement")

    @admin.display(description="付款")
    def pay_link(self, obj):
        if obj is None or obj.state != StatementState.CONFIRMED:
            return "—"
        return format_html('<a class="button" href="{}">登记付款</a>', reverse("admin:settlement_statement_pay",
                                                                             args=[obj.pk]))  # fmt: skip

    def get_urls(self):
        pay = path("<int:pk>/pay/", self.admin_site.admin_view(self.pay_view), name="settlement_statement_pay")
        return [pay, *super().get_urls()]

    def pay_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm("settlement.pay_statement"):
            raise PermissionDenied
        statement = get_object_or_404(self.get_queryset(request), pk=pk)
        form = StatementPayForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                statement_pay(statement=statement, user=request.user,
                              reference=form.cleaned_data["payment_reference"])  # fmt: skip
            except HLHTError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"结算单 {statement} 已登记付款。", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:settlement_statement_change", args=[statement.pk]))
        context = {**self.admin_site.each_context(request), "title": f"登记付款：{statement}", "opts": self.opts,
                   "statement": statement, "form": form}  # fmt: skip
        return TemplateResponse(request, "admin/settlement/statement_pay.html", context)

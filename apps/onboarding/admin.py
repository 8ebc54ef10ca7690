"""Review in the admin: applications approved or rejected with a reason, keys handed over once, the operator's own
key set entered by its manager, conformance reports run and read."""

from __future__ import annotations

import base64
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import (
    AuditedAdmin,
    ExtensibleAdminMixin,
    ExtraFormField,
    ModelAdmin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
)
from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.models import Job
from apps.core.roles import may
from apps.interconnect.models import Exchange
from apps.operators.admin import OperatorAdmin
from apps.operators.models import Operator

from .forms import OutboundKeysForm
from .jobs import ConformanceJob
from .models import Application, ConformanceReport, KeyHandover
from .selectors import onboarding_links
from .services import (
    activation_refusal,
    application_approve,
    application_reject,
    keys_hand_over,
    outbound_keys_enter,
    override_note,
)


class DecisionForm(forms.Form):
    reason = forms.CharField(label="审核意见", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3}))


def _perm(request: HttpRequest, codename: str) -> None:
    if not request.user.has_perm(f"onboarding.{codename}"):
        raise PermissionDenied


@admin.register(Application)
class ApplicationAdmin(ScopedAdminMixin, AuditedAdmin):
    list_display = ["reference", "legal_name", "applied_operator_id", "kind", "status", "created", "decided_by"]
    list_select_related = ["decided_by"]  # the reviewer is nullable: the default select_related() skips it
    list_filter = ["status", "kind"]
    search_fields = ["reference", "legal_name", "applied_operator_id", "credit_code"]
    ordering = ["status", "-created"]  # pending (待审核) first
    change_form_template = "admin/onboarding/application_change.html"

    def get_readonly_fields(self, request, obj=None):
        # The applicant's own words and the decision are records; the decision is taken with the buttons.
        return [f.name for f in Application._meta.fields]

    def has_add_permission(self, request):
        return False  # applications come through /apply/

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", view(self.approve_view), name="onboarding_application_approve"),
            path("<int:pk>/reject/", view(self.reject_view), name="onboarding_application_reject"),
            path("handover/<int:pk>/", view(self.handover_view), name="onboarding_keyhandover_show"),
            path("outbound-keys/<str:operator_id>/", view(self.outbound_keys_view), name="onboarding_outbound_keys"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"may_review": request.user.has_perm("onboarding.review_application")}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _decide(self, request: HttpRequest, pk: int, approve: bool) -> HttpResponse:
        _perm(request, "review_application")
        application = get_object_or_404(self.get_queryset(request), pk=pk)
        form = DecisionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            try:
                if approve:
                    handover = application_approve(application_id=pk, by=request.user, note=reason)
                    return HttpResponseRedirect(reverse("admin:onboarding_keyhandover_show", args=[handover.pk]))
                application_reject(application_id=pk, by=request.user, reason=reason)
                messages.success(request, f"申请 {application.reference} 已驳回")
                return HttpResponseRedirect(reverse("admin:onboarding_application_change", args=[pk]))
            except ValidationFailed as exc:
                form.add_error("reason", exc.detail if exc.field == "reason" else exc.message)
            except Conflict as exc:
                form.add_error(None, exc.message)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "application": application,
            "form": form,
            "title": f"{'批准' if approve else '驳回'}接入申请 {application.reference}",
            "approve": approve,
        }
        return TemplateResponse(request, "admin/onboarding/application_decide.html", context)

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decide(request, pk, approve=True)

    def reject_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._decide(request, pk, approve=False)

    def handover_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The issued keys and the manager's password link, once: the POST that shows them also empties them (a GET
        only offers the button, so a link preview or a prefetching browser cannot use up the one showing)."""
        _perm(request, "review_application")
        handover = get_object_or_404(KeyHandover.objects.select_related("application"), pk=pk)
        if handover.application is None or handover.application.decided_by_id != request.user.pk:
            raise PermissionDenied  # only the person who approved the application hands its keys over
        content = keys_hand_over(handover_id=handover.pk, by=request.user) if request.method == "POST" else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "密钥交付",
            "handover": handover,
        }
        if content is not None:
            text = json.dumps(content["keys"], ensure_ascii=False, indent=2)
            context.update({
                "keys_json": text,
                "download": "data:application/json;base64," + base64.b64encode(text.encode()).decode(),
                "filename": f"{handover.operator_id}-keys.json",
                "username": content["login"]["username"],
                "password_link": request.build_absolute_uri(content["login"]["path"]),
            })  # fmt: skip
        else:
            handover.refresh_from_db()
        response = TemplateResponse(request, "admin/onboarding/keys_handover.html", context)
        response["Cache-Control"] = "no-store"  # not kept by the browser or a proxy
        return response

    def outbound_keys_view(self, request: HttpRequest, operator_id: str) -> HttpResponse:
        _perm(request, "enter_outbound_keys")
        operator = get_object_or_404(Operator.objects.for_user(request.user), pk=operator_id)
        form = OutboundKeysForm(
            request.POST if request.method == "POST" else None, initial={"endpoint_url": operator.endpoint_url}
        )
        if request.method == "POST" and form.is_valid():
            values = {name: form.cleaned_data[name] for name in form.fields if name != "endpoint_url"}
            try:
                outbound_keys_enter(operator_id=operator.pk, values=values, endpoint=form.cleaned_data["endpoint_url"])
            except ValidationFailed as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, exc.detail if field else exc.message)
            else:
                messages.success(request, "已保存贵方平台签发给本平台的密钥；现在可以运行一致性检测")
                return HttpResponseRedirect(reverse("admin:index"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "operator": operator,
            "title": f"填写对接密钥 · {operator}",
        }
        return TemplateResponse(request, "admin/onboarding/outbound_keys.html", context)


@admin.register(ConformanceReport)
class ConformanceReportAdmin(ReadOnlyAdminMixin, ExtensibleAdminMixin, ModelAdmin):
    list_display = ["operator", "started", "passed", "failed_checks", "dialects", "run_by"]
    list_select_related = ["operator", "run_by"]  # run_by is nullable: the default select_related() skips it
    list_filter = ["passed"]
    search_fields = ["operator__operator_id", "operator__operator_name"]
    fields = ["operator", "started", "finished", "passed", "run_by", "dialect_panel", "checks_table"]
    readonly_fields = fields

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("run/<str:operator_id>/", view(self.run_view), name="onboarding_conformancereport_run"),
            path("job/<int:job_id>/", view(self.job_view), name="onboarding_conformancereport_job"),
            path(
                "job/<int:job_id>/status/", view(self.job_status_view), name="onboarding_conformancereport_job_status"
            ),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest, operator_id: str) -> HttpResponse:
        """POST: start the check in the background and show its job, which the page polls until the report is in."""
        _perm(request, "run_conformance")
        operator = get_object_or_404(Operator.objects.for_user(request.user), pk=operator_id)
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "operator": operator,
                "title": f"一致性检测 · {operator}",
            }
            return TemplateResponse(request, "admin/onboarding/conformance_run.html", context)
        job = ConformanceJob.enqueue(user=request.user, object_id=operator.pk, operator_id=operator.pk)
        return HttpResponseRedirect(reverse("admin:onboarding_conformancereport_job", args=[job.pk]))

    def _job(self, request: HttpRequest, job_id: int) -> tuple[Job, Operator]:
        """The check's job, for someone who may run checks on its operator (else 404, as for an unknown one)."""
        _perm(request, "run_conformance")
        job = get_object_or_404(Job, pk=job_id, name=ConformanceJob.name)
        operator = get_object_or_404(Operator.objects.for_user(request.user), pk=job.object_id)
        return job, operator

    def job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        """While the check runs: its status, polled. Once done: the report (with the outcome as a message)."""
        job, operator = self._job(request, job_id)
        report_id = job.result.get("report")
        if job.over and report_id is not None:
            passed = job.result.get("passed")
            level = messages.SUCCESS if passed else messages.WARNING
            messages.add_message(request, level, f"一致性检测{'通过' if passed else '未通过'}")
            return HttpResponseRedirect(reverse("admin:onboarding_conformancereport_change", args=[report_id]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "operator": operator,
            "job": job,
            "status_url": reverse("admin:onboarding_conformancereport_job_status", args=[job.pk]),
            "title": f"一致性检测 · {operator}",
        }
        return TemplateResponse(request, "admin/onboarding/conformance_job.html", context)

    def job_status_view(self, request: HttpRequest, job_id: int) -> JsonResponse:
        """What the waiting page polls: the job's status; `over` tells it to reload (and so reach the report)."""
        job, _ = self._job(request, job_id)
        return JsonResponse(
            {"status": job.status, "label": job.get_status_display(), "over": job.over, "error": job.error}
        )

    @admin.display(description="未通过的检查")
    def failed_checks(self, obj):
        return "、".join(c["title"] for c in obj.checks if c["outcome"] == "failed") or "—"

    @admin.display(description="识别出的协议差异")
    def dialects(self, obj):
        return "、".join(obj.dialects_detected) or "—"

    @admin.display(description="协议差异")
    def dialect_panel(self, obj):
        if not obj.dialects_detected:
            return "未发现"
        return format_html(
            "该平台使用以下方言，可在运营商的“协议差异”中开启对应项后接受：{}", "、".join(obj.dialects_detected)
        )

    @admin.display(description="检查项")
    def checks_table(self, obj):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td style='text-align:right'>{}</td><td>{}</td></tr>",
            (
                (
                    c["title"],
                    {"passed": "✔ 通过", "failed": "✘ 未通过", "skipped": "— 不适用"}[c["outcome"]],
                    "" if c.get("ms") is None else f"{c['ms']:.0f} ms",
                    c.get("detail", ""),
                )
                for c in obj.checks
            ),
        )
        return format_html("<table><tr><th>检查</th><th>结果</th><th>耗时</th><th>说明</th></tr>{}</table>", rows)


def exchange_panel(request: HttpRequest, report: ConformanceReport) -> str:
    """The messages the check exchanged; linked to the journal only for those who may open the journal."""
    if not report.exchanges:
        return "—"
    if not may(request.user, Exchange, "view"):
        rows = format_html_join("", "<li>{} {} Ret {}</li>",
                                ((e["direction"], e["interface"], e["ret"]) for e in report.exchanges))  # fmt: skip
        return format_html("<ul>{}</ul>", rows)
    url = reverse("admin:interconnect_exchange_changelist")
    rows = format_html_join(
        "",
        "<li><a href='{}{}/change/'>{} {} Ret {}</a></li>",
        ((url, e["id"], e["direction"], e["interface"], e["ret"]) for e in report.exchanges),
    )
    return format_html("<ul>{}</ul>", rows)


# Per request (the journal links depend on who reads), so a panel rather than a readonly field.
ConformanceReportAdmin.extensions.panel("exchanges", "交换的报文（报文日志）", exchange_panel)


# -- what onboarding adds to the operator's page (OperatorAdmin.extensions, filled in OnboardingConfig.ready()) ------


def activation_check(form: forms.ModelForm, cleaned: dict) -> None:
    """The operator's page: testing → active only with a recent passing conformance report, or a stated override."""
    status = cleaned.get("status")
    if status is None or form.instance.pk is None:
        return
    before = Operator.objects.filter(pk=form.instance.pk).values("status", "kind").first() or {}
    candidate = Operator(pk=form.instance.pk, kind=cleaned.get("kind", form.instance.kind), status=status)
    refusal = activation_refusal(candidate, before.get("status"), before.get("kind"))
    reason = (cleaned.get("activation_override") or "").strip()
    if refusal and not reason:
        form.add_error("status", refusal)
    elif refusal:
        form.instance._change_reason = override_note(reason)  # django-simple-history's reason for the version


def conformance_panel(request: HttpRequest, operator: Operator) -> str:
    """The operator page's onboarding block: the latest report and the actions this person may take."""
    report = ConformanceReport.objects.filter(operator=operator).order_by("-started").first()
    parts = []
    if report is None:
        parts.append(format_html("{}", "尚未检测"))
    else:
        url = reverse("admin:onboarding_conformancereport_change", args=[report.pk])
        parts.append(
            format_html(
                '<a href="{}">{} {}</a>',
                url,
                timezone.localtime(report.started).strftime("%Y-%m-%d %H:%M"),
                "通过" if report.passed else "未通过",
            )
        )
    labels = {"run_conformance": "运行一致性检测", "outbound_keys": "填写对接密钥"}
    for key, url in onboarding_links(request.user, operator).items():
        if key in labels:
            parts.append(format_html('<a class="button" href="{}">{}</a>', url, labels[key]))
    return format_html_join(" · ", "{}", ((p,) for p in parts))


def extend_operator_admin() -> None:
    """Onboarding's part of the operator page: the activation check with its override field, the conformance panel."""
    extensions = OperatorAdmin.extensions
    extensions.form_field(
        "activation_override",
        ExtraFormField(
            formfield=forms.CharField(
                label="放行理由",
                max_length=100,
                required=False,
                help_text="没有近期通过的一致性检测报告时转为正式接入须填写；记入变更记录",
            ),
            fieldset="接入",
            after="status",
            clean=activation_check,
        ),
    )
    extensions.panel("onboarding", "一致性检测", conformance_panel)

"""What supervision adds to the admin: operator health and station counts on the operator list and page, the rule
filter and the data-quality report on rejected records.

Added through the lower admins' extension points (apps.core.admin.AdminExtensions), filled by `extend_admin()` from
SupervisionConfig.ready(): an app never imports supervision, and supervision reads every app.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.admin import ModelAdmin
from apps.core.conf import conf
from apps.interconnect.admin import RejectedRecordAdmin
from apps.operators.admin import OperatorAdmin
from apps.operators.choices import OperatorKind
from apps.operators.models import Operator
from apps.protocol.names import Interface
from apps.stations.models import Station
from apps.stations.selectors import listed_connectors

from .health import PULLED, PUSH, with_health
from .rules import RULE_LABELS
from .selectors import (
    BUCKETS,
    TARGET,
    Correctness,
    QualityReport,
    correctness_by_operator,
    day_bounds,
    period_last_day,
    quality_report_by_operator,
)

REPORT_DAYS = 30  # the data-quality report's default period, ending today
MAX_REPORT_DAYS = 366  # a longer period is cut: one row per day must stay a readable page
BUCKET_LABELS = {"day": "按日", "week": "按周", "month": "按月"}
# Dates the report accepts; also keeps date arithmetic clear of year 1 and 9999 (OverflowError, not a message).
REPORT_FIRST_DAY, REPORT_LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
PULL_NAMES = {
    Interface.QUERY_STATIONS_INFO: "站点信息",
    Interface.QUERY_STATION_STATUS: "接口状态",
    Interface.QUERY_STATION_STATS: "统计信息",
}


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "从未"


# -- operators: health and stations ------------------------------------------------------------------------------------


class StaleFilter(admin.SimpleListFilter):
    """Operators whose status data stopped arriving (see health.py for the rule)."""

    title = "数据状态"
    parameter_name = "stale"

    def lookups(self, request, model_admin):
        return [("1", "数据停滞"), ("0", "正常")]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(is_stale=self.value() == "1")
        return queryset


def with_station_count(queryset: models.QuerySet) -> models.QuerySet:
    """Health and the number of stations listed, for the operator list's columns and page."""
    # A correlated count, not a join: joined with the health subqueries, a JOIN + GROUP BY would evaluate them
    # once per station row rather than once per operator.
    stations = (
        Station.objects.filter(operator=OuterRef("pk"), removed_at__isnull=True)
        .order_by()
        .values("operator")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return with_health(queryset).annotate(
        _station_count=Coalesce(Subquery(stations, output_field=models.IntegerField()), Value(0))
    )


@admin.display(description="充电站数", ordering="_station_count")
def station_count(obj):
    return obj._station_count


@admin.display(description="数据状态", ordering="is_stale")
def health(obj):
    if obj.kind != "operator" or obj.status != "active":
        return "—"
    if obj.is_stale:
        return format_html('<strong style="color:#ba2121">{}</strong>', "数据停滞")
    return format_html('<span style="color:#417505">{}</span>', "正常")


@admin.display(description="最近状态数据", ordering="last_status_data")
def last_status_data(obj):
    return _when(obj.last_status_data)


@admin.display(description="最近站点信息拉取", ordering="last_query_stations_info")
def last_info_pull(obj):
    return _when(obj.last_query_stations_info)


@admin.display(description="状态过期的接口", ordering="stale_connector_count")
def stale_connectors(obj):
    if not obj.stale_connector_count:
        return 0
    url = reverse("admin:stations_connector_changelist")
    return format_html(
        '<a href="{}?operator__operator_id__exact={}&status_age=stale">{}</a>', url, obj.pk, obj.stale_connector_count
    )


def health_panel(request: HttpRequest, obj: Operator) -> str:
    """运行状况: when each pull last succeeded, the last push, stale connectors and the verdict."""
    # `obj` comes from the admin's queryset, so it already carries the health annotations.
    rows = [(f"最近一次成功拉取{PULL_NAMES[name]}（{name}）", _when(getattr(obj, f"last_{name}"))) for name in PULLED]
    connectors = listed_connectors().filter(operator=obj).count()
    rows += [
        (f"最近一次收到状态推送（{PUSH}）", _when(obj.last_push)),
        (
            f"状态超过 {conf().supervision.stale_minutes} 分钟未更新的接口",
            f"{obj.stale_connector_count} / {connectors}",
        ),
        ("判定", "数据停滞" if obj.is_stale else "正常"),
    ]
    return format_html(
        "<table>{}</table>",
        format_html("".join("<tr><th>{}</th><td>{}</td></tr>" for _ in rows), *[v for row in rows for v in row]),
    )


# -- rejected records: the rule filter and the data-quality report -----------------------------------------------------


class RuleListFilter(admin.SimpleListFilter):
    title = "违反的规则"
    parameter_name = "rule"

    def lookups(self, request, model_admin):
        return [(code, label) for code, label in RULE_LABELS.items()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        # The list is stored as JSON text on SQLite and jsonb on PostgreSQL; both render a code inside quotes, so
        # `"power"` matches that element and not a longer code containing it. (`contains` does not work on SQLite.)
        return queryset.filter(rules__icontains=json.dumps(self.value()))


# -- the data-quality report: a page under the rejected records' admin ---------------------------------------------


class QualityReportPage:
    """Per operator in the user's scope: correctness against 99.99 % and rejected records by rule over time."""

    def __init__(self, model_admin: ModelAdmin) -> None:
        self.model_admin = model_admin
        self.admin_site = model_admin.admin_site
        self.opts = model_admin.opts

    def render(self, request: HttpRequest) -> TemplateResponse:
        if not self.model_admin.has_view_permission(request):
            raise PermissionDenied
        since, until = self._report_period(request)
        bucket = request.GET.get("bucket", "day")
        if bucket not in BUCKETS:
            messages.warning(request, "统计粒度无效，已按日统计。")
            bucket = "day"
        in_scope = Operator.objects.for_user(request.user).filter(kind=OperatorKind.OPERATOR).order_by("operator_id")
        chosen = request.GET.get("operator", "").strip()
        operators = list(in_scope.filter(pk=chosen)) if chosen else list(in_scope)
        if chosen and not operators:
            messages.warning(request, f"运营商“{chosen[:20]}”不存在或不在您的查看范围内，已显示全部运营商。")
            chosen, operators = "", list(in_scope)
        ids = [operator.pk for operator in operators]
        figures = correctness_by_operator(ids, since, until)
        reports = quality_report_by_operator(ids, since, until, bucket=bucket)
        rows = [
            self._report_section(operator, figures[operator.pk], reports[operator.pk], since, until)
            for operator in operators
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "数据质量报告",
            "opts": self.opts,
            "since": since,
            "until": until,
            "bucket": bucket,
            "bucket_choices": list(BUCKET_LABELS.items()),
            "operator_choices": list(in_scope) if len(ids) > 1 or chosen else [],
            "chosen": chosen,
            "target": TARGET,
            "sections": rows,
            # Only operators with rejections get a table; the others are one line in the summary.
            "details": [row for row in rows if row["report"].total_records or chosen],
            "changelist_url": self._records_url(since=since, until=until),
        }
        return TemplateResponse(request, "admin/supervision/quality_report.html", context)

    def _report_period(self, request: HttpRequest) -> tuple[date, date]:
        today = timezone.localdate()
        until = self._date_param(request, "until", today)
        since = self._date_param(request, "since", until - timedelta(days=REPORT_DAYS - 1))
        if since > until:
            messages.warning(request, "开始日期晚于结束日期，已改为结束日期前30天。")
            since = until - timedelta(days=REPORT_DAYS - 1)
        if (until - since).days >= MAX_REPORT_DAYS:
            messages.warning(request, f"统计期最长{MAX_REPORT_DAYS}天，已从结束日期往前截取。")
            since = until - timedelta(days=MAX_REPORT_DAYS - 1)
        return since, until

    @staticmethod
    def _date_param(request: HttpRequest, name: str, default: date) -> date:
        value = request.GET.get(name, "").strip()
        if not value:
            return default
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is None or not REPORT_FIRST_DAY <= day <= REPORT_LAST_DAY:
            label = "开始日期" if name == "since" else "结束日期"
            messages.warning(
                request, f"{label}“{value[:20]}”无法识别，请使用 YYYY-MM-DD 格式；已改用 {default:%Y-%m-%d}。"
            )
            return default
        return day

    def _records_url(self, *, since: date, until: date, **filters: str) -> str:
        """The rejected-records changelist narrowed to Beijing days since..until (and any list filters)."""
        start, end = day_bounds(since, until)
        # ISO datetimes with their offset: a bare date on a DateTimeField would be taken as a naive datetime.
        query = {**filters, "created__gte": start.isoformat(), "created__lt": end.isoformat()}
        return f"{reverse(f'admin:{self.opts.app_label}_{self.opts.model_name}_changelist')}?{urlencode(query)}"

    def _report_section(
        self, operator: Operator, figure: Correctness, report: QualityReport, since: date, until: date
    ) -> dict[str, Any]:
        own = {"operator__operator_id__exact": operator.pk}
        rows = []
        for period, records, counts in report.rows():
            last = min(period_last_day(period, report.bucket), until)
            url = self._records_url(since=max(period, since), until=last, **own) if records else ""
            rows.append((period, records, counts, url))
        return {
            "operator": operator,
            "correctness": figure,
            "report": report,
            "rows": rows,
            "url": self._records_url(since=since, until=until, **own),
            "rule_columns": [
                (code, label, total, self._records_url(since=since, until=until, rule=code, **own))
                for code, label, total in report.rule_columns
            ],
        }


def quality_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> TemplateResponse:
    return QualityReportPage(model_admin).render(request)


# -- registration: supervision's part of the lower apps' admin, through their extension points ----------------------


def extend_admin() -> None:
    """Called once from SupervisionConfig.ready()."""
    operators = OperatorAdmin.extensions
    operators.annotate("health", with_station_count)
    for name, column in [
        ("station_count", station_count),
        ("health", health),
        ("last_status_data", last_status_data),
        ("last_info_pull", last_info_pull),
        ("stale_connectors", stale_connectors),
    ]:
        operators.column(name, column, before="updated")
    operators.list_filter("stale", StaleFilter, first=True)
    operators.panel("health", "运行状况", health_panel)

    rejected = RejectedRecordAdmin.extensions
    rejected.list_filter("rule", RuleListFilter)
    rejected.url("quality", "quality/", quality_view)
    rejected.tool("quality", "数据质量报告", "interconnect_rejectedrecord_quality")

"""The station page's connector timeline and the operator page's 30-day figures, as admin panels (drawn per request
from the selectors in pictures.py, registered by extend_admin through the lower admins' extension points)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from apps.core.roles import scope_of
from apps.operators.models import Operator
from apps.protocol import CST
from apps.stations.models import Station

from . import pictures

# Not statuses, so not from STATUS_COLOURS: what succeeded and what failed in the crawl and push charts.
OUTCOME_COLOURS = {"ok": "#78909c", "failed": "#c62828"}


def _round(value: Decimal | float, places: int) -> Decimal:
    # Half up, as a receipt rounds: Python's round() and format() round a Decimal half to even (42.25 → 42.2).
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def count(n: int) -> str:
    """A count with thousands separators: 12,345."""
    return f"{n:,}"


def kwh(value: Decimal | float) -> str:
    """Energy to one decimal, with separators: 1,234.5."""
    return f"{_round(value, 1):,.1f}"


def yuan(value: Decimal | float) -> str:
    """Money to two decimals, with separators: 1,234.50."""
    return f"{_round(value, 2):,.2f}"


def _span(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}小时{minutes}分" if hours else f"{minutes}分"


def _clock(moment: datetime, origin: datetime) -> str:
    local, first = moment.astimezone(CST), origin.astimezone(CST)
    # The day is named where it differs from the window's first day: the last 24 hours cross midnight.
    return local.strftime("%H:%M") if local.date() == first.date() else local.strftime("%m-%d %H:%M")


def station_timeline_panel(request: HttpRequest, obj: Station) -> str:
    """接口状态（最近24小时）: one row per connector, its segments coloured by status, with from–to in tooltips."""
    timeline = pictures.station_timeline(scope_of(request.user), obj.pk)
    total = timeline.seconds
    lines = []
    for line in timeline.lines:
        segments = []
        for segment in line.segments:
            note = "（维护窗口或豁免，不计入指标）" if segment.excluded else ""
            segments.append({
                "x": f"{segment.offset(timeline.start):.0f}",
                "width": f"{segment.seconds:.0f}",
                "colour": segment.colour,
                "status": "" if segment.status is None else segment.status,
                "tip": f"{_clock(segment.start, timeline.start)}–{_clock(segment.end, timeline.start)}"
                f" {segment.label}{note}（{_span(segment.seconds)}）",
            })  # fmt: skip
        lines.append({"connector_id": line.connector_id, "name": line.name, "segments": segments})
    ticks = [{"left": f"{100 * (tick.at - timeline.start).total_seconds() / total:.3f}", "label": tick.label}
             for tick in timeline.ticks]  # fmt: skip
    return render_to_string(
        "admin/supervision/station_timeline.html",
        {
            "lines": lines,
            "ticks": ticks,
            "legend": timeline.legend,
            "seconds": f"{total:.0f}",
            "background": pictures.NOT_LISTED_COLOUR,
            "start": _clock(timeline.start, timeline.start),
            "end": timeline.end.astimezone(CST).strftime("%m-%d %H:%M"),
        },
        request=request,
    )


def operator_figures_data(request: HttpRequest, operator_id: str) -> dict[str, Any]:
    """The charts' data (json_script) and the 30 days' totals, formatted."""
    scope = scope_of(request.user)
    days = pictures.figure_days()
    status = pictures.operator_status_now(scope, operator_id)
    states = pictures.operator_states_by_day(scope, operator_id, days)
    crawls = pictures.operator_crawls(scope, operator_id, days)
    pushes = pictures.operator_pushes(scope, operator_id, days)
    orders = pictures.operator_orders(scope, operator_id, days)
    charts = {
        "days": [day.strftime("%m-%d") for day in days],
        "status": [{"name": share.label, "value": share.n, "colour": share.colour} for share in status],
        "states": [{"name": state.label, "colour": state.colour, "hours": state.hours} for state in states.states],
        "outcome_colours": OUTCOME_COLOURS,
        "crawls": {"ok": crawls.ok, "failed": crawls.failed},
        "pushes": {"ok": pushes.ok, "failed": pushes.failed},
        "orders": {
            "n": orders.orders,
            # Rounded here as they are shown: kWh to one decimal, 元 to two.
            "energy": [float(_round(value, 1)) for value in orders.energy],
            "money": [float(_round(value, 2)) for value in orders.money],
        },
    }
    connectors = sum(share.n for share in status)
    totals = [
        ("接口", f"{count(connectors)} 个"),
        ("拉取", f"{count(crawls.total)} 次（失败 {count(sum(crawls.failed))}）"),
        ("状态推送", f"{count(pushes.total)} 次（拒收 {count(sum(pushes.failed))}）"),
        ("订单", f"{count(sum(orders.orders))} 单"),
        ("电量", f"{kwh(sum(orders.energy, Decimal(0)))} kWh"),
        ("金额", f"{yuan(sum(orders.money, Decimal(0)))} 元"),
    ]
    return {"charts": charts, "totals": totals, "days_n": pictures.FIGURE_DAYS}


def operator_figures_panel(request: HttpRequest, obj: Operator) -> str:
    """近30天概况: status mix now and per day, orders and energy, crawls and pushes per day."""
    return render_to_string(
        "admin/supervision/operator_figures.html", operator_figures_data(request, obj.pk), request=request
    )

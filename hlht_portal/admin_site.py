"""The portal's admin site on django-unfold: the regulators' product, in Chinese; each role gets its own home, and a
sidebar grouped the way a regulator thinks, showing only what the person may open."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from unfold.sites import UnfoldAdminSite

# The sidebar: (group, [(model label or admin URL name, material-symbols icon)]), in the order a regulator reads. A
# model is listed where the person may view it (the admin's own app list decides); a registered model missing here
# still appears, under 其他, so a new admin is never unreachable.
NAVIGATION: list[tuple[str, list[tuple[str, str]]]] = [
    ("总览", [("index", "dashboard"), ("url:interconnect_rejectedrecord_quality", "fact_check")]),
    (
        "运营商",
        [
            ("operators.operator", "apartment"),
            ("pricing.businesspolicy", "sell"),
            ("pricing.policyperiod", "schedule"),
            ("pricing.policycheck", "manage_search"),
        ],
    ),
    (
        "充电设施",
        [
            ("stations.station", "ev_station"),
            ("stations.equipment", "electric_meter"),
            ("stations.connector", "electrical_services"),
            ("stations.connectorstatus", "sensors"),
            ("stations.connectorstatushistory", "timeline"),
            ("stations.pendingconnectorstatus", "pending"),
            ("stations.directorychange", "edit_location_alt"),
            ("stations.stationstats", "bar_chart"),
            ("stations.equipmentstats", "bar_chart"),
            ("stations.connectorstats", "bar_chart"),
        ],
    ),
    (
        "订单与结算",
        [
            ("orders.chargeorder", "receipt_long"),
            ("orders.chargedetail", "list_alt"),
            ("orders.orderfinding", "rule"),
            ("orders.orderreport", "outbox"),
            ("settlement.reconciliationrun", "compare_arrows"),
            ("settlement.dispute", "gavel"),
            ("settlement.settlementagreement", "handshake"),
            ("settlement.statement", "request_quote"),
            ("charging.chargingsession", "bolt"),
            ("charging.outboundcommand", "terminal"),
            ("drivers.driver", "person"),
            ("drivers.walletentry", "account_balance_wallet"),
            ("drivers.notification", "notifications"),
        ],
    ),
    (
        "数据交换",
        [
            ("interconnect.syncrun", "sync"),
            ("interconnect.exchange", "swap_horiz"),
            ("interconnect.rejectedrecord", "block"),
        ],
    ),
    (
        "接入",
        [
            ("onboarding.application", "assignment"),
            ("onboarding.conformancereport", "verified"),
            ("interconnect.operatorkeyset", "key"),
            ("interconnect.accesstoken", "token"),
        ],
    ),
    (
        "指标",
        [
            ("indicators.indicator", "monitoring"),
            ("indicators.scorecard", "leaderboard"),
            ("indicators.rewardscheme", "emoji_events"),
            ("indicators.maintenancewindow", "build"),
            ("indicators.exemption", "do_not_disturb_on"),
        ],
    ),
    ("系统", [("auth.user", "manage_accounts"), ("auth.group", "groups"), ("authtoken.tokenproxy", "vpn_key")]),
]


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """UNFOLD's SIDEBAR navigation for this request: the groups above with the models this person may view."""
    site = _site()
    models = {model["model"]._meta.label_lower: model for app in site.get_app_list(request) for model in app["models"]}
    listed: set[str] = set()
    groups: list[dict[str, Any]] = []
    for title, entries in NAVIGATION:
        items = []
        for key, icon in entries:
            item = _item(request, site, models, key, icon)
            if item:
                items.append(item)
                listed.add(key)
        if items:
            groups.append({"title": title, "separator": bool(groups), "items": items})
    rest = [_item(request, site, models, key, "chevron_right") for key in models if key not in listed]
    if rest:
        groups.append({"title": "其他", "separator": True, "items": rest})
    return groups


def _item(request, site, models, key: str, icon: str) -> dict[str, Any] | None:
    if key == "index":
        return {"title": "工作台", "icon": icon, "link": reverse("admin:index")}
    if key.startswith("url:"):
        # A page under a model's admin: shown to whoever may view that model's list.
        name = key.removeprefix("url:")
        app_model = _model_of_url(name, models)
        if app_model is None:
            return None
        try:
            link = reverse(f"admin:{name}")
        except NoReverseMatch:
            return None
        return {"title": _URL_TITLES.get(name, name), "icon": icon, "link": link}
    model = models.get(key)
    if model is None or not model.get("admin_url"):
        return None
    return {"title": model["name"], "icon": icon, "link": model["admin_url"]}


_URL_TITLES = {"interconnect_rejectedrecord_quality": "数据质量报告"}


def _model_of_url(name: str, models: dict[str, Any]) -> str | None:
    app, model = name.split("_")[:2]
    key = f"{app}.{model}"
    return key if key in models else None


def _site() -> HLHTAdminSite:
    from django.contrib import admin

    return admin.site  # type: ignore[return-value]


def favicon_url(request: HttpRequest) -> str:
    return static("hlht/favicon.svg")


def workbench_css_url(request: HttpRequest) -> str:
    return static("hlht/workbench.css")


class HLHTAdminSite(UnfoldAdminSite):
    site_header = "北京市充电设施公共服务管理平台"
    site_title = "充电设施监管平台"
    index_title = "监管工作台"
    index_template = "admin/hlht_index.html"
    enable_nav_sidebar = True

    def get_urls(self):
        from django.urls import path

        from apps.supervision.views import map_points

        return [path("dashboard/map.json", self.admin_view(map_points), name="dashboard_map"), *super().get_urls()]

    def index(self, request, extra_context=None):
        # Imported here: the admin site is built before the apps' models are ready.
        from apps.supervision.home import home_context

        return super().index(request, {**home_context(request), **(extra_context or {})})


class HLHTAdminConfig(AdminConfig):
    default_site = "hlht_portal.admin_site.HLHTAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscover: every app's admin is registered
        _retheme_library_admins()


def _retheme_library_admins() -> None:
    """Django's and DRF's own admins (users, groups, API tokens) on the theme's bases, so their pages look like the
    rest. Here, not in an app: the apps never unregister an admin (tests/core/test_admin_extensions.py)."""
    from django.contrib import admin
    from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
    from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
    from rest_framework.authtoken.models import TokenProxy
    from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

    from apps.core.admin import ModelAdmin

    class UserAdmin(BaseUserAdmin, ModelAdmin):
        form = UserChangeForm
        add_form = UserCreationForm
        change_password_form = AdminPasswordChangeForm

    class GroupAdmin(BaseGroupAdmin, ModelAdmin):
        pass

    class TokenAdmin(BaseTokenAdmin, ModelAdmin):
        pass

    for model, model_admin in ((User, UserAdmin), (Group, GroupAdmin), (TokenProxy, TokenAdmin)):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, model_admin)

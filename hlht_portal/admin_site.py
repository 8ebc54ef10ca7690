"""The portal's admin site: the regulators' product, in Chinese by default; each role gets its own home."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class HLHTAdminSite(admin.AdminSite):
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

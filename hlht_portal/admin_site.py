"""The portal's admin site: the regulators' product, in Chinese by default."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class HLHTAdminSite(admin.AdminSite):
    site_header = "北京市充电设施公共服务管理平台"
    site_title = "充电设施监管平台"
    index_title = "监管工作台"
    enable_nav_sidebar = True


class HLHTAdminConfig(AdminConfig):
    default_site = "hlht_portal.admin_site.HLHTAdminSite"

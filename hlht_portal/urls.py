"""Root URLs: the admin (the regulators' product), language switching, and later the protocol and API."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

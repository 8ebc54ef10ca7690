"""Root URLs: the protocol endpoints, the admin (the regulators' product) and language switching."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from apps.interconnect.server import endpoint

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Any name under the prefix reaches the protocol view, so an unknown interface gets an envelope, not a 404 page.
    re_path(rf"^{settings.HLHT_PROTOCOL_PREFIX}(?P<interface>[^/]*)/?$", endpoint, name="protocol"),
    re_path(
        rf"^{settings.HLHT_PROTOCOL_LEGACY_PREFIX}(?P<interface>[^/]*)/?$",
        endpoint,
        {"legacy": True},
        name="protocol-legacy",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("hlht_portal.api_urls")),
]

"""Root URLs: the protocol endpoints, the admin (the regulators' product) and language switching."""

import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from apps.interconnect.server import endpoint


def _under(prefix: str) -> str:
    """Every path under the prefix, the prefix itself (with or without its slash) included."""
    return rf"^{re.escape(prefix.strip('/'))}(?:/(?P<interface>[\s\S]*))?$"


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Any path under the prefix reaches the protocol view (`a/b`, a NUL, nothing at all), so whatever a peer asks
    # for gets an envelope, never a 404 page.
    re_path(_under(settings.HLHT_PROTOCOL_PREFIX), endpoint, name="protocol"),
    re_path(_under(settings.HLHT_PROTOCOL_LEGACY_PREFIX), endpoint, {"legacy": True}, name="protocol-legacy"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("hlht_portal.api_urls")),
]

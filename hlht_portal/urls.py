"""Root URLs: the admin (the regulators' product), the API and language switching.

The protocol (`/evcs/v1/…`, HLHT_PROTOCOL_PREFIX) has no URL pattern: apps.interconnect.server.ProtocolMiddleware
serves every path under its prefixes before any other middleware, so whatever a peer sends gets an envelope.
"""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("hlht_portal.api_urls")),
]

"""Root URLs: the admin (the regulators' product), the API, and the public onboarding form.

The protocol (`/evcs/v1/…`, HLHT_PROTOCOL_PREFIX) has no URL pattern: apps.interconnect.server.ProtocolMiddleware
serves every path under its prefixes before any other middleware, so whatever a peer sends gets an envelope.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView

from apps.ops import views as ops

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    # Browsers ask for /favicon.ico before reading any page; the icon itself is a static file.
    path("favicon.ico", RedirectView.as_view(url=static("hlht/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    # For the operations network only (HLHT_OPS_NETWORKS; anyone else gets 404): README, Operations.
    path("healthz", ops.healthz, name="healthz"),
    path("metrics", ops.metrics, name="metrics"),
    path("api/", include("hlht_portal.api_urls")),
    path("apply/", include("apps.onboarding.urls")),
    # An approved operator's manager sets a password through the one-time link issued with the keys.
    path(
        "account/set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_set_done")),
        name="password_set",
    ),
    path("account/set-password/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_set_done"),
]

"""URLs of the driver API, mounted at /api/driver/."""

from django.urls import path

from . import views

urlpatterns = [
    path("stations/", views.StationsView.as_view(), name="driver-stations"),
    path("qr/", views.QRView.as_view(), name="driver-qr"),
    path("connectors/<str:operator_id>/<str:connector_id>/policy/", views.PolicyView.as_view(), name="driver-policy"),
    path("sessions/", views.SessionsView.as_view(), name="driver-sessions"),
    path("sessions/<str:seq>/", views.SessionView.as_view(), name="driver-session"),
    path("sessions/<str:seq>/stop/", views.StopView.as_view(), name="driver-stop"),
    path("orders/", views.OrdersView.as_view(), name="driver-orders"),
    path("wallet/", views.WalletView.as_view(), name="driver-wallet"),
    path("notifications/", views.NotificationsView.as_view(), name="driver-notifications"),
]

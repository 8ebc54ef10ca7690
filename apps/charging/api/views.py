"""The driver API (/api/driver/): find a charger, read its price, start, watch, stop, and see orders and money.

Views are thin: they authenticate the driver and call one service or selector. A refusal (apps/charging/exceptions.py)
is answered with its status and code by DRF's exception handler (apps.core.api_errors), not here.
"""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.charging.models import ChargingSession
from apps.charging.selectors import stations_near
from apps.charging.services import connector_policy, session_start, session_stop, target_of
from apps.core.conf import conf
from apps.drivers.models import Notification, WalletEntry
from apps.drivers.selectors import balance_of
from apps.orders.models import ChargeOrder
from apps.protocol.qr import qr_parse

from .serializers import (
    NotificationSerializer,
    OrderSerializer,
    PolicySerializer,
    QRSerializer,
    ScannedSerializer,
    SessionSerializer,
    StartSerializer,
    StationsSerializer,
    WalletEntrySerializer,
)


class IsDriver(permissions.BasePermission):
    message = "此接口仅供充电用户使用"

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and hasattr(request.user, "driver"))


class DriverView(APIView):
    permission_classes = [IsDriver]

    def driver_rows(self, queryset):
        # The schema generator calls get_queryset() without a driver: it needs the model, not the rows.
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(**{self.driver_path: self.request.user.driver})


def _parse_qr(text: str):
    try:
        return qr_parse(text)
    except ValueError as exc:
        raise ValidationError({"qr": str(exc)}) from None


class StationsView(DriverView):
    @extend_schema(
        parameters=[
            OpenApiParameter("lng", float), OpenApiParameter("lat", float),
            OpenApiParameter("radius_km", float, description="默认 3 公里，最大 50"),
            OpenApiParameter("district", str, description="行政区划代码，如 110105"),
        ],
        responses={200: StationsSerializer},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        """Stations near a point or in a district, each connector with its live status and its price now."""
        params = request.query_params
        district = params.get("district", "")
        try:
            lng = float(params["lng"]) if "lng" in params else None
            lat = float(params["lat"]) if "lat" in params else None
            radius = min(float(params.get("radius_km", 3)), 50.0)
        except ValueError:
            raise ValidationError({"lng": "经纬度与半径须为数字"}) from None
        if not district and (lng is None or lat is None):
            raise ValidationError({"lng": "请提供 lng 与 lat，或 district"})
        found = stations_near(lng=lng, lat=lat, radius_km=radius, district=district)
        return Response(StationsSerializer({"results": found}).data)


class QRView(DriverView):
    @extend_schema(request=QRSerializer, responses={200: ScannedSerializer})
    def post(self, request: Request) -> Response:
        """Resolve a scanned QR string (appendix A, and the 充电网 `?extra=` form) to its connector."""
        serializer = QRSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = _parse_qr(serializer.validated_data["qr"])
        target = target_of(code.operator_id, code.connector_id)
        current = getattr(target.connector, "current_status", None)
        return Response(ScannedSerializer({
            "operator_id": code.operator_id, "connector_id": code.connector_id, "qr_code": code.custom,
            "extra": list(code.extra), "station_id": target.connector.station.station_id,
            "station_name": target.connector.station.station_name,
            "status": current.status if current else None, "power": target.connector.power,
        }).data)  # fmt: skip


class PolicyView(DriverView):
    @extend_schema(responses={200: PolicySerializer})
    def get(self, request: Request, operator_id: str, connector_id: str) -> Response:
        """The connector's business policy (query_equip_business_policy, cached per connector) and its price now."""
        target = target_of(operator_id, connector_id)
        return Response(PolicySerializer(connector_policy(target.connector)).data)


class SessionsView(DriverView, generics.ListAPIView):
    serializer_class = SessionSerializer

    driver_path = "driver"

    def get_queryset(self):
        return self.driver_rows(ChargingSession.objects.select_related("connector", "order"))

    @extend_schema(request=StartSerializer, responses={201: SessionSerializer})
    def post(self, request: Request) -> Response:
        """Start charging. **201** with the session 启动中 (`state` 1) as soon as the money is held: the operator is not
        waited for. A worker then authenticates the connector with the operator (query_equip_auth) and sends the start
        (query_start_charge); watch the session (GET sessions/<seq>/) until `state` is 2 (充电中) or 4 (已结束). An
        operator that refuses the authentication, or cannot be reached, ends it with `outcome` `auth_refused` (and
        its `fail_reason`) and the hold is given back, once. A stop pressed before the operator was asked to start
        ends it at once (`outcome` `cancelled`). Refused at once, nothing held: 402 `balance_low`, 403
        `driver_suspended`, 404 `connector_unknown`, 409 `connector_offline` / `connector_fault` / `connector_busy` /
        `operator_suspended`."""
        serializer = StartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, qr_code = serializer.validated_data, ""
        if data.get("qr"):
            code = _parse_qr(data["qr"])
            data = {"operator_id": code.operator_id, "connector_id": code.connector_id}
            qr_code = code.custom
        session = session_start(driver_id=request.user.driver.pk, operator_id=data["operator_id"],
                                connector_id=data["connector_id"], qr_code=qr_code)  # fmt: skip
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionView(DriverView, generics.RetrieveAPIView):
    serializer_class = SessionSerializer
    lookup_field = "start_charge_seq"
    lookup_url_kwarg = "seq"

    driver_path = "driver"

    def get_queryset(self):
        return self.driver_rows(ChargingSession.objects.select_related("connector", "order"))


class StopView(DriverView):
    @extend_schema(request=None, responses={202: SessionSerializer})
    def post(self, request: Request, seq: str) -> Response:
        """Stop charging: **202**, the session shows 停止中 until the operator confirms — or, still being
        authenticated (the operator not yet asked to start), it ends at once: 已结束, `outcome` `cancelled`."""
        session = session_stop(driver_id=request.user.driver.pk, seq=seq)
        return Response(SessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)


class OrdersView(DriverView, generics.ListAPIView):
    serializer_class = OrderSerializer

    driver_path = "session__driver"

    def get_queryset(self):
        return self.driver_rows(ChargeOrder.objects.order_by("-start_time"))


class WalletView(DriverView, generics.ListAPIView):
    serializer_class = WalletEntrySerializer

    driver_path = "driver"

    def get_queryset(self):
        return self.driver_rows(WalletEntry.objects.order_by("-id"))

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)
        driver = request.user.driver
        response.data["balance"] = str(balance_of(driver.pk))
        response.data["payment"] = driver.payment
        response.data["minimum_to_start"] = str(conf().charging.driver_min_balance.quantize(Decimal("0.01")))
        return response


class NotificationsView(DriverView, generics.ListAPIView):
    serializer_class = NotificationSerializer

    driver_path = "driver"

    def get_queryset(self):
        return self.driver_rows(Notification.objects.order_by("-id"))

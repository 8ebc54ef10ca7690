"""URLs of the REST API under /api/: the resources, the driver API, the OpenAPI schema and its Swagger UI."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from apps.core.api_docs import ApiDocsView
from apps.indicators.api import AnnualAssessmentViewSet, IndicatorViewSet, ScorecardViewSet
from apps.interconnect.api.viewsets import RejectedRecordViewSet, SyncRunViewSet
from apps.orders.api.viewsets import ChargeOrderViewSet, OrderFindingViewSet
from apps.pricing.api.viewsets import BusinessPolicyViewSet
from apps.settlement.api.viewsets import DisputeViewSet, ReconciliationRunViewSet
from apps.stations.api.viewsets import (
    ConnectorStatusHistoryViewSet,
    ConnectorViewSet,
    DirectoryChangeViewSet,
    EquipmentViewSet,
    StationStatsViewSet,
    StationViewSet,
)
from apps.supervision.api import OperatorHealthViewSet

app_name = "api"

router = DefaultRouter()
router.register("operators", OperatorHealthViewSet, basename="operator")
router.register("stations", StationViewSet, basename="station")
router.register("equipment", EquipmentViewSet, basename="equipment")
router.register("connectors", ConnectorViewSet, basename="connector")
router.register("status-history", ConnectorStatusHistoryViewSet, basename="status-history")
router.register("station-stats", StationStatsViewSet, basename="station-stats")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")
router.register("directory-changes", DirectoryChangeViewSet, basename="directory-change")
router.register("rejected-records", RejectedRecordViewSet, basename="rejected-record")
router.register("orders", ChargeOrderViewSet, basename="order")
router.register("order-findings", OrderFindingViewSet, basename="order-finding")
router.register("policies", BusinessPolicyViewSet, basename="policy")
router.register("reconciliations", ReconciliationRunViewSet, basename="reconciliation")
router.register("disputes", DisputeViewSet, basename="dispute")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("assessments", AnnualAssessmentViewSet, basename="annualassessment")

urlpatterns = [
    # The schema is behind the same login as the data: the portal publishes nothing to anonymous callers.
    path(
        "schema/",
        SpectacularAPIView.as_view(
            authentication_classes=[TokenAuthentication, SessionAuthentication], permission_classes=[IsAuthenticated]
        ),
        name="schema",
    ),
    path("docs/", ApiDocsView.as_view(url_name="api:schema"), name="docs"),
    path("driver/", include("apps.charging.api.urls")),
    *router.urls,
]

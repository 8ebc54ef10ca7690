"""The dashboard map's points as JSON (fetched by the page, so the index stays small at 20,000 stations)."""

from django.http import HttpRequest, JsonResponse
from django.urls import reverse

from .dashboard import station_points


def map_points(request: HttpRequest) -> JsonResponse:
    points = station_points(request.user) or []
    return JsonResponse({"points": points, "station_url": reverse("admin:stations_station_change", args=[0])})

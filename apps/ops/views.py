"""/healthz and /metrics, for the operations network only (apps/ops/access.py)."""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from .access import ops_only
from .collectors import OpsCollector
from .health import run_checks


@never_cache
@require_GET
@ops_only
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when every check passes, else 503 naming those that failed; the figures either way."""
    results = run_checks()
    failed = [name for name, result in results.items() if not result.ok]
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checks": {name: result.as_json() for name, result in results.items()},
    }
    return JsonResponse(body, status=503 if failed else 200, json_dumps_params={"ensure_ascii": False})


@never_cache
@require_GET
@ops_only
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format: this process's counters (every process's, summed, in multiprocess mode) and the
    gauges computed now."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each gunicorn worker and each Celery pool process wrote its counters to a file there; read them all.
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)  # a registry is a collector too (it has collect())
    registry.register(OpsCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

"""DRF's exception handler for the portal's APIs: a Refusal becomes its status and {code, detail}, the rest is DRF's."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core.exceptions import Refusal


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Refusal):
        return Response(exc.body(), status=exc.status)
    return drf_exception_handler(exc, context)

"""DRF's exception handler answers a Refusal with its status and code; everything else as DRF would."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated, ValidationError

from apps.core.api_errors import exception_handler
from apps.core.exceptions import Conflict, Refusal


class _NotToday(Refusal):
    code = "not_today"
    status = 418
    default_message = "今天不行"


def test_a_refusal_is_its_status_and_code():
    response = exception_handler(_NotToday(), {})
    assert response.status_code == 418 and response.data == {"code": "not_today", "detail": "今天不行"}
    response = exception_handler(_NotToday("明天再来"), {})
    assert response.data["detail"] == "明天再来"


def test_the_rest_is_drfs():
    assert exception_handler(ValidationError({"qr": "无效"}), {}).status_code == 400
    assert exception_handler(NotAuthenticated(), {}).status_code == 401
    assert exception_handler(Conflict("状态冲突"), {}) is None  # not a refusal: a 500, as before


def test_a_validation_failure_keeps_its_rule_apart_from_the_field():
    from apps.core.exceptions import ValidationFailed

    failed = ValidationFailed("必须正好16字节（UTF-8）", field="DataSecret")
    assert failed.message == "DataSecret: 必须正好16字节（UTF-8）" and failed.detail == "必须正好16字节（UTF-8）"
    assert ValidationFailed().detail == ValidationFailed().message == "业务参数不合法"

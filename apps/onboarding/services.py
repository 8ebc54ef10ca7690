"""Onboarding writes: submit an application, approve or reject it, hand the keys over once, take the operator's own
key set, and move an operator from testing to active behind a passing conformance report."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.core.conf import conf
from apps.core.exceptions import Conflict, ValidationFailed
from apps.core.history import history_note
from apps.core.roles import OPERATOR_MANAGER
from apps.core.secretbox import seal, unseal
from apps.interconnect.choices import KeyDirection
from apps.interconnect.keys import keys_validate, keyset_install
from apps.interconnect.services import operator_provision
from apps.operators.choices import OperatorKind, OperatorStatus
from apps.operators.models import Operator, OperatorAccount, dialect_fields
from apps.protocol.creditcode import credit_code_problem, operator_id_from_credit_code

from .choices import OPEN_STATUSES, ApplicationStatus
from .models import Application, ConformanceReport, KeyHandover

# Reference numbers: "SQ" and ten characters without look-alikes (0/O, 1/I/L), read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _reference() -> str:
    return "SQ" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(10))


def application_refusal(operator_id: str) -> str | None:
    """Why an application for `operator_id` cannot be taken (already connected or already applied), or None."""
    operator = Operator.objects.filter(pk=operator_id).first()
    if operator is not None:
        return f"运营商ID {operator_id} 已接入本平台（{operator.get_status_display()}），无需重复申请"
    if Application.objects.filter(applied_operator_id=operator_id, status__in=OPEN_STATUSES).exists():
        return f"运营商ID {operator_id} 已有待审核的申请，请用申请编号查询进度"
    return None


@transaction.atomic
def application_submit(*, data: dict[str, Any], address: str | None = None) -> Application:
    """Store a valid application (the form checked each field); refuses a bad credit code or a known operator."""
    code = str(data.get("credit_code", "")).strip().upper()
    problem = credit_code_problem(code)
    if problem:
        raise ValidationFailed(problem, field="credit_code")
    operator_id = operator_id_from_credit_code(code)
    refusal = application_refusal(operator_id)
    if refusal:
        raise ValidationFailed(refusal, field="credit_code")
    known = {name for name, _ in dialect_fields()}
    dialects = [name for name in data.get("dialects", []) if name in known]
    fields = (
        "legal_name",
        "kind",
        "contact_name",
        "contact_phone",
        "service_tel",
        "reg_address",
        "base_url",
        "station_count",
        "connector_count",
        "email",
    )
    application = Application(
        reference=_reference(),
        credit_code=code,
        applied_operator_id=operator_id,
        dialects=dialects,
        submitted_from=address,
        **{name: data[name] for name in fields if name in data},
    )
    application.full_clean(exclude=["reference", "applied_operator_id"])
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:  # a second submission for the same operator raced this one
        raise ValidationFailed(application_refusal(operator_id) or "重复的申请", field="credit_code") from None
    return application


def application_find(reference: str, email: str) -> Application | None:
    """The application with this reference whose contact e-mail matches (both needed: references are not secrets)."""
    application = Application.objects.filter(reference=reference.strip().upper()).first()
    if application is None or not secrets.compare_digest(application.email.lower(), email.strip().lower()):
        return None
    return application


def _decided(application: Application, by: User, status: str, reason: str) -> None:
    if application.status != ApplicationStatus.PENDING:
        raise Conflict(f"申请 {application.reference} 的状态为“{application.get_status_display()}”，不能再次审核")
    application.status = status
    application.decided_by = by
    application.decided_at = timezone.now()
    application.decision_reason = reason[:500]
    history_note(application, reason[:100] or status)  # shown in the history's 修改原因 column


@transaction.atomic
def application_reject(*, application_id: int, by: User, reason: str) -> Application:
    if not reason.strip():
        raise ValidationFailed("驳回须说明原因", field="reason")
    application = Application.objects.select_for_update().get(pk=application_id)
    _decided(application, by, ApplicationStatus.REJECTED, reason.strip())
    application.save()
    return application


@transaction.atomic
def application_approve(*, application_id: int, by: User, note: str = "") -> KeyHandover:
    """Create the operator in testing with its inbound keys, its manager's login, and the one-time key handover."""
    application = Application.objects.select_for_update().get(pk=application_id)
    _decided(application, by, ApplicationStatus.APPROVED, note.strip() or "批准接入")
    if Operator.objects.filter(pk=application.applied_operator_id).exists():
        raise Conflict(f"运营商ID {application.applied_operator_id} 已存在")
    # The same provisioning a platform admin runs by command: one service for both.
    result = operator_provision(
        operator_id=application.applied_operator_id,
        name=application.legal_name,
        kind=application.kind,
        status=OperatorStatus.TESTING,
        endpoint=application.base_url,
        tel=application.service_tel,
    )
    operator = Operator.objects.get(pk=application.applied_operator_id)
    operator.operator_reg_address = application.reg_address
    for name in application.dialects:
        setattr(operator, name, True)
    history_note(operator, f"接入申请 {application.reference} 批准")
    operator.save()
    application.operator = operator
    application.save()
    user = _manager_login(application)
    # Only the inbound set is shown: the outbound set is the one the operator's platform issues to the portal,
    # which its manager enters (outbound_keys_enter); the generated placeholder is never handed out.
    handed = {"OperatorID": operator.pk, "inbound": result["inbound"]}
    return KeyHandover.objects.create(
        operator=operator,
        application=application,
        sealed=seal(json.dumps(handed, ensure_ascii=False)),
        password_link=seal(json.dumps({"username": user.get_username(), "path": _password_path(user)})),
    )


def _manager_login(application: Application) -> User:
    users = get_user_model()
    username = f"op_{application.applied_operator_id.lower()}"
    user = users.objects.filter(username=username).first()
    if user is None:
        user = users.objects.create_user(username=username, email=application.email, is_staff=True)
        user.set_unusable_password()  # the manager sets it through the one-time link
        user.save()
    elif not OperatorAccount.objects.filter(user=user, operator_id=application.applied_operator_id).exists():
        # Never hand a one-time password link for somebody else's login (an admin's, another operator's).
        raise Conflict(f"用户名 {username} 已被其他账号使用，请先处理该账号再批准")
    user.groups.add(Group.objects.get_or_create(name=OPERATOR_MANAGER)[0])
    OperatorAccount.objects.update_or_create(user=user, defaults={"operator_id": application.applied_operator_id})
    return user


def _password_path(user: User) -> str:
    return reverse(
        "password_set", args=[urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)]
    )


@transaction.atomic
def keys_hand_over(*, handover_id: int, by: User) -> dict[str, Any] | None:
    """The handover's content the first time anyone asks for it (then it is gone); None ever after."""
    handover = KeyHandover.objects.select_for_update().get(pk=handover_id)
    if handover.shown_at is not None or not handover.sealed:
        return None
    content = {"keys": json.loads(unseal(handover.sealed)), "login": json.loads(unseal(handover.password_link))}
    handover.sealed = handover.password_link = ""
    handover.shown_at, handover.shown_by = timezone.now(), by
    handover.save(update_fields=["sealed", "password_link", "shown_at", "shown_by"])
    return content


@transaction.atomic
def outbound_keys_enter(*, operator_id: str, values: dict[str, str], endpoint: str | None = None) -> None:
    """The key set the operator's platform issued to the portal (the portal calls it with these), and its address."""
    keys_validate(values)  # ValidationFailed names the field and the rule (lengths per the spec)
    operator = Operator.objects.select_for_update().get(pk=operator_id)
    keyset_install(operator=operator, direction=KeyDirection.OUTBOUND, values=values, overlap=timedelta(0))
    if endpoint is not None and endpoint != operator.endpoint_url:
        operator.endpoint_url = endpoint
        history_note(operator, "运营商填写接口地址")
        operator.full_clean(exclude=["operator_tel1"], validate_unique=False)
        operator.save()


def latest_passing_report(operator_id: str) -> ConformanceReport | None:
    """The newest passing report young enough to let the operator go live (HLHT_CONFORMANCE_VALID_DAYS)."""
    since = timezone.now() - timedelta(days=conf().supervision.conformance_valid_days)
    reports = ConformanceReport.objects.filter(operator_id=operator_id, passed=True, started__gte=since)
    return reports.order_by("-started").first()


def activation_refusal(operator: Operator, previous_status: str | None, previous_kind: str | None = None) -> str | None:
    """Why `operator` may not become (or stay, after a change of kind) an active charging operator now, or None.

    A charging operator goes live with a recent passing report. A third-party platform serves no query interface
    the portal calls, so its activation is the regulator's decision alone (kept in the history); turning an active
    platform into a charging operator is a going live and passes the gate too.
    """
    if operator.status != OperatorStatus.ACTIVE or operator.kind != OperatorKind.OPERATOR:
        return None
    if previous_status == OperatorStatus.ACTIVE and previous_kind in (None, OperatorKind.OPERATOR):
        return None
    if latest_passing_report(operator.pk) is None:
        days = conf().supervision.conformance_valid_days
        return f"转为正式接入需要近{days}天内通过的一致性检测报告；没有时须填写放行理由（将记入变更记录）"
    return None


def override_note(reason: str) -> str:
    """What the history keeps when a regulator lets an operator go live without a passing report."""
    return f"未经一致性检测放行：{reason.strip()}"


@transaction.atomic
def operator_activate(*, operator_id: str, by: User, override_reason: str = "") -> Operator:
    """Testing → active through the gate (a recent passing report, or a stated override kept in the history)."""
    operator = Operator.objects.select_for_update().get(pk=operator_id)
    before = (operator.status, operator.kind)
    operator.status = OperatorStatus.ACTIVE
    refusal = activation_refusal(operator, *before)
    if refusal and not override_reason.strip():
        raise ValidationFailed(refusal, field="status")
    history_note(
        operator, f"未经一致性检测放行：{override_reason.strip()}" if refusal else "一致性检测通过，正式接入", user=by
    )
    operator.save()
    return operator

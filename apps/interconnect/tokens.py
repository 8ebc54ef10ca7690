"""Access tokens the portal issues through query_token (T/CEC 102.4 Appendix A)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.operators.choices import CONNECTED_STATUSES
from apps.operators.models import Operator

from .models import AccessToken


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def token_issue(*, operator: Operator) -> tuple[str, int]:
    """A new opaque token and its lifetime in seconds; earlier tokens stay valid until they expire."""
    lifetime = settings.HLHT_TOKEN_LIFETIME
    token = secrets.token_urlsafe(32)
    AccessToken.objects.create(
        operator=operator, token_hash=_digest(token), expires_at=timezone.now() + timedelta(seconds=lifetime)
    )
    return token, lifetime


def token_is_valid(*, operator: Operator, token: str) -> bool:
    """True for an unexpired token of this operator while the operator may connect.

    The operator's status is read in the same query, not from the (possibly cached) object: suspension ends
    every token at once.
    """
    return AccessToken.objects.filter(
        token_hash=_digest(token),
        operator_id=operator.pk,
        expires_at__gt=timezone.now(),
        operator__status__in=CONNECTED_STATUSES,
    ).exists()


def tokens_revoke(*, operator: Operator) -> int:
    deleted, _ = AccessToken.objects.filter(operator=operator).delete()
    return deleted


def tokens_purge_expired() -> int:
    deleted, _ = AccessToken.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted

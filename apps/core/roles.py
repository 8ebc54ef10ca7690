"""The portal's roles and the single scope rule that decides which rows a person may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

REGULATOR = "regulator"
OPERATOR_MANAGER = "operator_manager"
PLATFORM_ADMIN = "platform_admin"

ROLE_LABELS = {
    REGULATOR: "监管人员",
    OPERATOR_MANAGER: "运营商客户经理",
    PLATFORM_ADMIN: "平台管理员",
}


def _group_names(user) -> set[str]:
    # Cached on the user object: the scope rule runs on every changelist and API call.
    cached = getattr(user, "_hlht_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._hlht_groups = cached
    return cached


def sees_everything(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Superusers, platform admins and regulators see the whole city."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(_group_names(user) & {REGULATOR, PLATFORM_ADMIN})


def edits_operator_data(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Only those who run the portal (superusers, platform admins) may correct what an operator's platform or its
    application sent; regulators supervise it and change the lifecycle, the pull plan and the dialect flags."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or PLATFORM_ADMIN in _group_names(user)


def operator_scope(user: AbstractBaseUser | AnonymousUser) -> str | None:
    """The OperatorID an operator account manager is tied to, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    account = getattr(user, "operator_account", None)
    return account.operator_id if account is not None else None


class ScopedQuerySet(models.QuerySet):
    """QuerySet with the one scope rule: regulators see all, an operator's staff see only their operator's rows.

    Models declare `scope_operator_field`, the lookup path from the model to the operator's key
    (e.g. "operator" or "order__operator"), or None on Operator itself.
    """

    def for_user(self, user) -> ScopedQuerySet:
        if sees_everything(user):
            return self
        operator_id = operator_scope(user)
        if operator_id is None:
            return self.none()
        path = self.model.scope_operator_field
        # `<path>__pk` on a foreign key is resolved on the local column, so the common case needs no join;
        # None means the model is the operator itself.
        return self.filter(**{"pk" if path is None else f"{path}__pk": operator_id})


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)

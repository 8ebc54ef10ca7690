"""The portal's roles and the one authorization rule: the model permission for the action, then the row scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

# Django's four model permissions, and import-export's two (IMPORT_EXPORT_*_PERMISSION_CODE in the settings).
ACTIONS = frozenset({"view", "add", "change", "delete", "export", "import"})


def _group_names(user) -> set[str]:
    # Cached on the user object: the scope rule runs on every changelist and API call.
    cached = getattr(user, "_hlht_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._hlht_groups = cached
    return cached


@dataclass(frozen=True)
class Scope:
    """Which rows a person may reach: the whole city, one operator's, or none.

    A value, so the dashboard can compute (and cache) figures once per scope rather than per person.
    """

    city: bool = False
    operator_id: str | None = None

    @property
    def empty(self) -> bool:
        return not self.city and self.operator_id is None

    def covers(self, operator_id: str | None) -> bool:
        """Whether an operator's rows are inside this scope (rows of no operator only in the city's)."""
        return self.city or (operator_id is not None and self.operator_id == operator_id)

    @property
    def key(self) -> str:
        """A name for caches: `city`, the OperatorID, or `none`."""
        return "city" if self.city else (self.operator_id or "none")


CITY = Scope(city=True)
NOBODY = Scope()


def scope_of(user: AbstractBaseUser | AnonymousUser) -> Scope:
    """Superusers, platform admins and regulators reach the city; an operator's account manager their operator."""
    if not user.is_authenticated or not user.is_active:
        return NOBODY
    if user.is_superuser or _group_names(user) & {REGULATOR, PLATFORM_ADMIN}:
        return CITY
    account = getattr(user, "operator_account", None)
    return Scope(operator_id=account.operator_id) if account is not None else NOBODY


def permission_name(model: type[models.Model], action: str) -> str:
    """`app_label.<action>_<model>`, the permission an action on `model` needs (NetBox's get_permission_for_model)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def may(user: Any, model: type[models.Model], action: str) -> bool:
    """The permission half of the rule: whether `user` holds the model permission for `action` at all."""
    return bool(user.has_perm(permission_name(model, action)))


def edits_operator_data(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Only those who run the portal (superusers, platform admins) may correct what an operator's platform or its
    application sent; regulators supervise it and change the lifecycle, the pull plan and the dialect flags."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or PLATFORM_ADMIN in _group_names(user)


class ScopedQuerySet(models.QuerySet):
    """QuerySet with the one authorization rule, NetBox's `restrict(user, action)` with operators for constraints.

    `for_user(user, action)`: nothing unless the user holds the model permission for the action; then the rows of
    their scope (`for_scope`). Models declare `scope_operator_field`, the lookup path from the model to the
    operator's key (e.g. "operator" or "order__operator"), or None on Operator itself.
    """

    def for_user(self, user, action: str = "view") -> ScopedQuerySet:
        if not may(user, self.model, action):
            return self.none()
        return self.for_scope(scope_of(user))

    def for_scope(self, scope: Scope) -> ScopedQuerySet:
        """The row half of the rule: what a scope reaches, whoever asks. Figures computed once per scope (the
        dashboard) use it directly; everything a person reaches goes through `for_user`."""
        if scope.city:
            return self
        if scope.operator_id is None:
            return self.none()
        path = self.model.scope_operator_field
        # `<path>__pk` on a foreign key is resolved on the local column, so the common case needs no join;
        # None means the model is the operator itself.
        return self.filter(**{"pk" if path is None else f"{path}__pk": scope.operator_id})


class CityOnlyQuerySet(ScopedQuerySet):
    """Rows that belong to no operator (the city platform's own customers): the city's scope reaches them, an
    operator's does not."""

    def for_scope(self, scope: Scope) -> CityOnlyQuerySet:
        return self if scope.city else self.none()


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)

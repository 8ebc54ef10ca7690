"""Money moves only by explicit calls a reader can follow: no signal in apps/ (none defined, connected or received),
the order service's `order_pay` hook filled by charging in ready(), a second filler refused."""

from __future__ import annotations

import ast
import importlib
import weakref
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.db.models import signals as model_signals
from django.dispatch import Signal

from apps.charging.selectors import portal_session_of
from apps.charging.services.payment import order_pay
from apps.orders import hooks

APPS = Path(__file__).resolve().parents[2] / "apps"
SIGNALS = [
    *(value for value in vars(model_signals).values() if isinstance(value, Signal)),
    request_started,
    request_finished,
]


def _receivers(signal: Signal) -> list[object]:
    found = []
    for entry in signal.receivers:
        ref = entry[1]
        found.append(ref() if isinstance(ref, weakref.ReferenceType) else ref)
    return [r for r in found if r is not None]


def test_no_module_of_apps_imports_the_signal_machinery():
    offenders = []
    for path in sorted(APPS.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if any(name.startswith(("django.dispatch", "django.db.models.signals")) for name in names):
                offenders.append(str(path.relative_to(APPS)))
    assert offenders == []


def test_no_receiver_of_apps_is_connected_to_a_model_or_request_signal():
    assert len(SIGNALS) >= 8  # pre/post init, save, delete, m2m_changed, migrate … and the two request signals
    connected = [
        f"{getattr(r, '__module__', '?')}.{getattr(r, '__qualname__', r)}" for s in SIGNALS for r in _receivers(s)
    ]
    assert [name for name in connected if name.startswith("apps.")] == []


def test_the_order_stored_signal_is_gone():
    assert not hasattr(hooks, "order_stored")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("apps.orders.signals")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("apps.charging.receivers")


def test_charging_fills_the_order_hooks_by_name_in_ready():
    assert hooks.hooks_registered() == {"portal_session": portal_session_of, "order_pay": order_pay}


def test_a_second_payer_is_refused():
    def another_payer(*, order, interface, revision) -> None:  # pragma: no cover - never called
        raise AssertionError

    with pytest.raises(ImproperlyConfigured, match="order_pay"):
        hooks.hooks_register(portal_session=portal_session_of, order_pay=another_payer)
    assert hooks.hooks_registered()["order_pay"] is order_pay
    hooks.hooks_register(portal_session=portal_session_of, order_pay=order_pay)  # the same again: nothing changes

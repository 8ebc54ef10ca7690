"""The portal's own settings (HLHT_*), typed and grouped: read them through `conf()`, never `settings.HLHT_*`.

hlht_portal/settings.py reads the environment into Django settings (so `override_settings` and pytest-django's
`settings` fixture work as everywhere in Django); this module turns those values into frozen sections once — money
as `Decimal`, durations as `timedelta` or with their unit in the name — and builds them again when a test changes a
`HLHT_*` setting (Django's `setting_changed` signal). apps/protocol stays Django-free: its callers pass it values.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from ipaddress import IPv4Network, IPv6Network, ip_network
from types import MappingProxyType
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed


def _money(value: Any) -> Decimal:
    # str() first: a float setting (10.0) must become Decimal("10.0"), not its binary expansion.
    return Decimal(str(value))


def _seconds(value: Any) -> timedelta:
    return timedelta(seconds=float(value))


def _days(value: Any) -> timedelta:
    return timedelta(days=float(value))


def _hours(value: Any) -> timedelta:
    return timedelta(hours=float(value))


def _per_interface(value: Any) -> Mapping[str, int]:
    return MappingProxyType({str(name): int(days) for name, days in dict(value).items()})


def _names(value: Any) -> frozenset[str]:
    return frozenset(value)


def _setting(name: str, convert: Callable[[Any], Any]) -> Any:
    """A field read from the Django setting `name` (the environment variable of the same name) through `convert`."""
    return dataclasses.field(metadata={"setting": name, "convert": convert})


@dataclass(frozen=True)
class Protocol:
    """The T/CEC 102 server and the keys and tokens it issues (part 4)."""

    operator_id: str = _setting("HLHT_OPERATOR_ID", str)  # the portal's own OperatorID in every envelope it sends
    prefix: str = _setting("HLHT_PROTOCOL_PREFIX", str)
    legacy_prefix: str = _setting("HLHT_PROTOCOL_LEGACY_PREFIX", str)
    secret_keys: tuple[str, ...] = _setting("HLHT_SECRET_KEYS", tuple)  # newest first; empty: derived from SECRET_KEY
    token_lifetime_seconds: int = _setting("HLHT_TOKEN_LIFETIME", int)
    max_live_tokens: int = _setting("HLHT_MAX_LIVE_TOKENS", int)
    tokens_per_minute: int = _setting("HLHT_TOKEN_RATE", int)
    clock_skew_seconds: int = _setting("HLHT_CLOCK_SKEW", int)
    max_body_bytes: int = _setting("HLHT_MAX_BODY_BYTES", int)
    max_reconciliation_bytes: int = _setting("HLHT_MAX_RECONCILIATION_BYTES", int)
    key_overlap: timedelta = _setting("HLHT_KEY_OVERLAP", _seconds)
    max_push_items: int = _setting("HLHT_MAX_PUSH_ITEMS", int)
    max_pending_statuses: int = _setting("HLHT_MAX_PENDING_STATUSES", int)
    pending_status_lifetime: timedelta = _setting("HLHT_PENDING_STATUS_DAYS", _days)
    caller_cache_seconds: float = _setting("HLHT_CALLER_CACHE_SECONDS", float)

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)


@dataclass(frozen=True)
class Journal:
    """How long the journal and the status history are kept (PostgreSQL drops whole monthly partitions)."""

    retention_days: int = _setting("HLHT_JOURNAL_RETENTION_DAYS", int)
    retention_days_per_interface: Mapping[str, int] = _setting("HLHT_JOURNAL_RETENTION", _per_interface)
    full_payload: frozenset[str] = _setting("HLHT_JOURNAL_FULL_PAYLOAD", _names)  # bulk interfaces kept whole
    status_history_retention_days: int = _setting("HLHT_STATUS_HISTORY_RETENTION_DAYS", int)
    partitions_ahead_months: int = _setting("HLHT_PARTITIONS_AHEAD", int)


@dataclass(frozen=True)
class Client:
    """The portal calling operator platforms: timeouts, its tokens, the scheduled pulls, the background work."""

    connect_timeout_seconds: float = _setting("HLHT_CLIENT_CONNECT_TIMEOUT", float)
    read_timeout_seconds: float = _setting("HLHT_CLIENT_READ_TIMEOUT", float)
    token_refresh_margin_seconds: int = _setting("HLHT_TOKEN_REFRESH_MARGIN", int)
    allow_private_endpoints: bool = _setting("HLHT_ALLOW_PRIVATE_ENDPOINTS", bool)
    pull_retries: int = _setting("HLHT_PULL_RETRIES", int)
    pull_retry_base_seconds: float = _setting("HLHT_PULL_RETRY_BASE", float)
    pull_retry_cap_seconds: float = _setting("HLHT_PULL_RETRY_CAP", float)
    pull_lease: timedelta = _setting("HLHT_PULL_LEASE_SECONDS", _seconds)
    pull_redispatch: timedelta = _setting("HLHT_PULL_REDISPATCH_SECONDS", _seconds)
    pull_queue: str = _setting("HLHT_PULL_QUEUE", str)
    pull_time_limit_seconds: int = _setting("HLHT_PULL_TIME_LIMIT", int)
    enqueue: str = _setting("HLHT_ENQUEUE", str)  # the backend carrying background work (apps.core.jobs)

    @property
    def timeouts(self) -> tuple[float, float]:
        """(connect, read) in seconds, as requests takes them."""
        return (self.connect_timeout_seconds, self.read_timeout_seconds)


@dataclass(frozen=True)
class Orders:
    """How far an operator's figures may differ before they disagree (money in 元, energy in kWh)."""

    money_tolerance: Decimal = _setting("HLHT_ORDER_MONEY_TOLERANCE", _money)
    meter_tolerance: Decimal = _setting("HLHT_ORDER_METER_TOLERANCE", _money)
    duration_tolerance_seconds: int = _setting("HLHT_ORDER_DURATION_TOLERANCE", int)
    power_margin: Decimal = _setting("HLHT_ORDER_POWER_MARGIN", _money)
    price_tolerance: Decimal = _setting("HLHT_PRICE_TOLERANCE", _money)
    charge_bound_margin: Decimal = _setting("HLHT_CHARGE_BOUND_MARGIN", _money)


@dataclass(frozen=True)
class Charging:
    """Roaming charging started by the portal's drivers: their money, the outbox, the timers (part 3 §3.1–3.8)."""

    driver_min_balance: Decimal = _setting("HLHT_DRIVER_MIN_BALANCE", _money)
    driver_hold: Decimal = _setting("HLHT_DRIVER_HOLD", _money)
    command_attempts: int = _setting("HLHT_COMMAND_ATTEMPTS", int)
    command_retry_max_delay_seconds: float = _setting("HLHT_COMMAND_RETRY_MAX_DELAY", float)
    start_result_wait_seconds: float = _setting("HLHT_START_RESULT_WAIT", float)
    stop_result_wait_seconds: float = _setting("HLHT_STOP_RESULT_WAIT", float)
    status_push_wait_seconds: float = _setting("HLHT_STATUS_PUSH_WAIT", float)
    poll_min_interval_seconds: float = _setting("HLHT_POLL_MIN_INTERVAL", float)
    policy_cache_seconds: float = _setting("HLHT_DRIVER_POLICY_CACHE", float)
    policy_backoff_seconds: float = _setting("HLHT_DRIVER_POLICY_BACKOFF", float)
    session_stuck: timedelta = _setting("HLHT_SESSION_STUCK_HOURS", _hours)


@dataclass(frozen=True)
class Supervision:
    """Operator health, onboarding and the people's pages."""

    stale_minutes: int = _setting("HLHT_STALE_MINUTES", int)
    conformance_valid_days: int = _setting("HLHT_CONFORMANCE_VALID_DAYS", int)
    applications_per_hour: int = _setting("HLHT_APPLY_PER_HOUR", int)
    dashboard_cache_seconds: int = _setting("HLHT_DASHBOARD_CACHE_SECONDS", int)
    # With a read replica (DATABASE_REPLICA_URL): the dashboard says its data trails when the replica lags more.
    replica_lag_warn_seconds: float = _setting("HLHT_REPLICA_LAG_WARN", float)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(minutes=self.stale_minutes)


def _optional_seconds(value: Any) -> float | None:
    return None if value in (None, "") else float(value)


def _networks(value: Any) -> tuple[IPv4Network | IPv6Network, ...]:
    # strict=False: 10.1.2.3/8 means the network it is in, as an operator writing a firewall rule would mean it.
    return tuple(ip_network(str(item).strip(), strict=False) for item in value if str(item).strip())


@dataclass(frozen=True)
class Indicators:
    """The supervision indicators' choices the spec leaves to the portal (shared/spec/indicators.md)."""

    # Seconds without a report after which a connector is unknown; None: 2 × its operator's status-pull interval.
    status_gap_seconds: float | None = _setting("HLHT_STATUS_GAP", _optional_seconds)
    push_grace: timedelta = _setting("HLHT_PUSH_GRACE", _seconds)  # a status push this late is still on time
    lookback_days: int = _setting("HLHT_INDICATOR_LOOKBACK_DAYS", int)  # days the nightly run recomputes


@dataclass(frozen=True)
class Ops:
    """What the operations team watches: /healthz and /metrics, who may read them, and when a check fails."""

    networks: tuple[IPv4Network | IPv6Network, ...] = _setting("HLHT_OPS_NETWORKS", _networks)  # who may read them
    # Proxies whose X-Forwarded-For is believed (empty: REMOTE_ADDR alone decides, a header anyone can write is not).
    proxies: tuple[IPv4Network | IPv6Network, ...] = _setting("HLHT_OPS_PROXIES", _networks)
    check_timeout_seconds: float = _setting("HLHT_OPS_CHECK_TIMEOUT", float)  # each check of /healthz at most
    beat_stale: timedelta = _setting("HLHT_OPS_BEAT_STALE", _seconds)  # beat ticks each minute; older: failed
    outbox_stale: timedelta = _setting("HLHT_OPS_OUTBOX_STALE", _seconds)  # a due command waiting longer: failed


@dataclass(frozen=True)
class Conf:
    """Every HLHT_* setting, by section."""

    protocol: Protocol
    journal: Journal
    client: Client
    orders: Orders
    charging: Charging
    supervision: Supervision
    indicators: Indicators
    ops: Ops


_S = TypeVar("_S")

SECTIONS: tuple[type, ...] = (Protocol, Journal, Client, Orders, Charging, Supervision, Indicators, Ops)


def setting_names() -> list[str]:
    """The Django setting (and environment variable) behind each field, in declaration order."""
    return [field.metadata["setting"] for section in SECTIONS for field in dataclasses.fields(section)]


def _section(cls: type[_S]) -> _S:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]  # every section is a dataclass
    return cls(**{f.name: f.metadata["convert"](getattr(settings, f.metadata["setting"])) for f in fields})


@functools.cache
def conf() -> Conf:
    """The settings, built on first use and kept until a test changes one."""
    return Conf(
        protocol=_section(Protocol),
        journal=_section(Journal),
        client=_section(Client),
        orders=_section(Orders),
        charging=_section(Charging),
        supervision=_section(Supervision),
        indicators=_section(Indicators),
        ops=_section(Ops),
    )


def _rebuild(*, setting: str, **_: Any) -> None:
    # override_settings, pytest-django's `settings` fixture and Django's own test runner all send setting_changed;
    # a plain assignment to django.conf.settings does not, which is why nothing in the portal assigns to it.
    if setting.startswith("HLHT_"):
        conf.cache_clear()


setting_changed.connect(_rebuild, dispatch_uid="apps.core.conf.rebuild")

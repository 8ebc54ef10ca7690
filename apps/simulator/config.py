"""Run configuration of one simulated operator platform: identity, key sets, scale, faults, dialect, timing."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.protocol import STANDARD, Dialect, KeySet, is_operator_id

from .faults import Faults

PORTAL_OPERATOR_ID = "MA01HLHT0"
# Dialect flags the simulator can speak; no_v_base_url is the portal's concern (its URL), not ours.
DIALECT_NAMES = (
    "lowercase_sig",
    "bare_token",
    "millisecond_timestamp",
    "service_spelling",
    "lowercase_keys",
    "lower_camel_fields",
)
_KEY_FIELDS = ("OperatorSecret", "DataSecret", "DataSecretIV", "SigSecret")


def parse_dialect(text: str | None) -> Dialect:
    """`lowercase_sig,bare_token,...` → Dialect; ValueError on an unknown name."""
    flags: dict[str, bool] = {}
    for item in (text or "").split(","):
        name = item.strip()
        if not name:
            continue
        if name not in DIALECT_NAMES:
            raise ValueError(f"unknown dialect flag {name!r}; valid: {', '.join(DIALECT_NAMES)}")
        flags[name] = True
    return Dialect(**flags)


def _keyset(obj: Any, where: str) -> KeySet:
    if not isinstance(obj, dict):
        raise ValueError(f"{where} must be an object with {', '.join(_KEY_FIELDS)}")
    missing = [name for name in _KEY_FIELDS if not isinstance(obj.get(name), str) or not obj[name]]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    return KeySet(obj["OperatorSecret"], obj["DataSecret"], obj["DataSecretIV"], obj["SigSecret"])


def load_keys(source: str | Path | dict[str, Any]) -> tuple[str, KeySet, KeySet]:
    """Read what `operator_provision` printed: (OperatorID, inbound keys, outbound keys); ValueError when malformed."""
    data = source if isinstance(source, dict) else json.loads(Path(source).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("keys file must hold a JSON object")
    operator_id = data.get("OperatorID")
    if not is_operator_id(operator_id):
        raise ValueError("keys file: OperatorID must be 9 letters or digits")
    return operator_id, _keyset(data.get("inbound"), "inbound"), _keyset(data.get("outbound"), "outbound")


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything one simulator run needs. `inbound` = keys the portal issued (we call the portal with them);
    `outbound` = keys we issued (the portal calls us with them)."""

    operator_id: str
    inbound: KeySet
    outbound: KeySet
    portal_url: str | None = None
    portal_operator_id: str = PORTAL_OPERATOR_ID
    host: str = "127.0.0.1"
    port: int = 0
    base_path: str = "/evcs/v1/"
    stations: int = 50
    seed: int = 1
    speed: float = 1.0
    # Seconds the world of a simulator faster than real time begins behind the wall clock (it runs fast until it
    # reaches the present, then keeps pace: its times are never in the future).
    behind: float = 6 * 3600.0
    faults: Faults = field(default_factory=Faults)
    dialect: Dialect = STANDARD
    push: bool = True
    # Fetch the portal's token as soon as we start, not only at the first push (the live demo's platforms do).
    token_at_start: bool = False
    token_ttl: int = 7200
    page_size_default: int = 10
    page_size_max: int = 100
    clock_window: int = 300
    # Walk-in sessions per connector per simulated day (averaged over the daily profile).
    walkin_rate: float = 3.0
    # Faults/offline spells per connector per simulated day.
    incident_rate: float = 0.02
    # Directory changes (new station, rename, added connector) per simulated day across the whole operator.
    churn_per_day: float = 24.0
    # Seconds between reconciliations of the day so far (check_charge_orders), besides the daily one; 0 = daily only.
    reconcile_every: float = 0.0
    push_workers: int = 1
    max_pending_pushes: int = 100_000
    timeout_hold: float = 35.0
    # Check the Sig over the envelope's fields as received before anything else (their formats included), as some
    # platforms in the field do; the standard order checks the fields' formats first.
    sig_first: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 20.0

    def __post_init__(self) -> None:
        if not is_operator_id(self.operator_id) or not is_operator_id(self.portal_operator_id):
            raise ValueError("OperatorIDs must be 9 letters or digits")
        if self.stations < 1:
            raise ValueError("stations must be at least 1")
        if self.speed < 0:
            raise ValueError("speed must not be negative")
        if self.behind < 0:
            raise ValueError("behind must not be negative")
        if not 1 <= self.page_size_default <= self.page_size_max:
            raise ValueError("page sizes must satisfy 1 <= default <= max")
        if not 60 <= self.token_ttl <= 604_800:
            raise ValueError("token TTL must be between 60 s and 7 days")
        if not self.base_path.startswith("/") or not self.base_path.endswith("/"):
            raise ValueError("base_path must start and end with '/'")

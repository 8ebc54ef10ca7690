"""The simulated platform as its HTTP side sees it: handlers and server type against this, never against Simulator."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from .config import SimulatorConfig
from .directory import Connector, Directory
from .faults import Faults
from .sessions import EnergyLedger


class Platform(Protocol):
    """What a request may read or ask for; `Simulator` provides it (checked where it hands itself to its server).

    Read-only members, so the simulator's plain attributes satisfy them. The dependency runs one way: simulator →
    server → handlers → platform; nothing on the HTTP side imports the simulator module.
    """

    @property
    def config(self) -> SimulatorConfig: ...

    @property
    def faults(self) -> Faults: ...

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def directory(self) -> Directory: ...

    @property
    def ledger(self) -> EnergyLedger: ...

    def wall(self) -> datetime:
        """Transport time (TimeStamps, token lifetimes)."""
        ...

    def issue_token(self) -> tuple[str, int]: ...

    def token_valid(self, token: str) -> bool: ...

    def first_sight(self, timestamp: str, seq: str, sig: str) -> bool: ...

    def start_charge(self, seq: str, connector_id: str) -> dict[str, Any]: ...

    def stop_charge(self, seq: str, connector_id: str) -> dict[str, Any]: ...

    def charge_status(self, seq: str) -> dict[str, Any] | None: ...

    def set_connector_status(self, connector_id: str, status: int) -> Connector: ...

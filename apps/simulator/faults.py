"""Switchable fault modes (`--faults busy:0.2,slow:3,...`): what a misbehaving operator platform does to the portal."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .seeding import seeded


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One fault: what its parameter means, its default, and the range the parameter must lie in."""

    name: str
    help: str
    default: float
    low: float
    high: float


# Rates are probabilities per answer / per push / per station; the others are seconds or counts.
SPECS: tuple[FaultSpec, ...] = (
    FaultSpec("slow", "every business answer is delayed by SECONDS", 2.0, 0.0, 600.0),
    FaultSpec("late_answer", "every business call is carried out, then answered SECONDS later", 5.0, 0.0, 600.0),
    FaultSpec("timeout", "RATE of business calls held --timeout-hold s, then closed unanswered", 0.1, 0.0, 1.0),
    FaultSpec("busy", "RATE of business calls answered Ret -1 (系统繁忙)", 0.2, 0.0, 1.0),
    FaultSpec("error500", "RATE of business calls answered Ret 500 (系统错误)", 0.1, 0.0, 1.0),
    FaultSpec("bad_sig", "RATE of business answers whose Sig is wrong", 0.1, 0.0, 1.0),
    FaultSpec("drop_push", "RATE of pushes silently lost (never sent, never retried)", 0.1, 0.0, 1.0),
    FaultSpec("duplicate_push", "RATE of pushes delivered twice", 0.2, 0.0, 1.0),
    FaultSpec("reorder_push", "RATE of pushes held back and delivered after the next one", 0.2, 0.0, 1.0),
    FaultSpec("disappearing_station", "COUNT stations vanish, one every 10 simulated minutes", 1.0, 1.0, 1e6),
    FaultSpec("invalid_records", "RATE of stations sent invalid (bad enum, long name, outside China)", 0.05, 0.0, 1.0),
    FaultSpec("early_token_expiry", "tokens die after SECONDS although TokenAvailableTime says more", 60.0, 0.0, 1e6),
    FaultSpec(
        "clock_skew", "our clock is off by SECONDS (may be negative): TimeStamps sent and checked", 120.0, -1e6, 1e6
    ),
    FaultSpec(
        "start_failure", "RATE of portal-started sessions whose start fails (StartChargeSeqStat 4)", 0.2, 0.0, 1.0
    ),
    FaultSpec(
        "bad_money_sum", "RATE of orders whose TotalMoney is not TotalElecMoney + TotalSeviceMoney", 0.2, 0.0, 1.0
    ),
    FaultSpec("price_mismatch", "RATE of sessions billed 20 % above the declared policy (consistently)", 0.2, 0.0, 1.0),
    FaultSpec(
        "unpushed_order", "RATE of portal-started orders never pushed but listed in reconciliation", 0.2, 0.0, 1.0
    ),
    FaultSpec("unlisted_order", "RATE of portal-started orders pushed but left out of reconciliation", 0.2, 0.0, 1.0),
    FaultSpec("lost_start_result", "RATE of successful starts whose start result is never pushed", 1.0, 0.0, 1.0),
    FaultSpec("lost_stop_result", "RATE of portal stops whose stop result is never pushed", 1.0, 0.0, 1.0),
    FaultSpec(
        "refuse_secret_4004",
        "a wrong OperatorSecret is answered Ret 4004 instead of Ret 0 + SuccStat 1 (seen in the field)",
        1.0,
        0.0,
        1.0,
    ),
    FaultSpec(
        "down_during_stop", "the first COUNT query_stop_charge calls find the platform down (no answer)", 2.0, 0.0, 1e6
    ),
)
SPEC_BY_NAME: Mapping[str, FaultSpec] = MappingProxyType({spec.name: spec for spec in SPECS})


def describe() -> str:
    """One line per fault, for the command's --help."""
    return "; ".join(f"{s.name}[:{s.default:g}] {s.help}" for s in SPECS)


@dataclass(frozen=True)
class Faults:
    """The faults active in one run, name → parameter; `roll` decides a rate-based fault deterministically per seed."""

    params: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    _rngs: dict[str, random.Random] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str | None, *, seed: int = 0) -> Faults:
        """Parse `name[:param],name[:param]...`; ValueError names the bad item and lists the valid names."""
        params: dict[str, float] = {}
        for item in (text or "").split(","):
            item = item.strip()
            if not item:
                continue
            name, _, raw = item.partition(":")
            spec = SPEC_BY_NAME.get(name.strip())
            if spec is None:
                raise ValueError(f"unknown fault {name!r}; valid: {', '.join(SPEC_BY_NAME)}")
            try:
                value = float(raw) if raw.strip() else spec.default
            except ValueError:
                raise ValueError(f"fault {item!r}: parameter must be a number") from None
            if not spec.low <= value <= spec.high:
                raise ValueError(f"fault {item!r}: parameter must lie in [{spec.low:g}, {spec.high:g}]")
            params[spec.name] = value
        return cls(MappingProxyType(params), seed)

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def param(self, name: str) -> float:
        return self.params[name]

    def roll(self, name: str) -> bool:
        """True when a rate fault strikes this time; one seeded generator per fault keeps runs repeatable."""
        rate = self.params.get(name)
        if rate is None or rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._lock:
            rng = self._rngs.get(name)
            if rng is None:
                rng = self._rngs[name] = seeded(self.seed, "fault", name)
            return rng.random() < rate

    def __str__(self) -> str:
        return ",".join(f"{name}:{value:g}" for name, value in self.params.items()) or "none"

"""The benchmarks' floor: a no-op interface through the same receive pipeline (envelope, token, Sig, decrypt,
journal), so a benchmark can subtract what every message costs before any business work."""

from apps.interconnect.registry import REGISTRY, interface

FLOOR = "bench_roaming_noop"


def floor_register() -> None:
    """Serve FLOOR in this process (idempotent)."""
    if FLOOR in REGISTRY:
        return

    @interface(FLOOR)
    def noop(ctx, payload):
        return {"StartChargeSeq": payload.get("StartChargeSeq", ""), "SuccStat": 0}


def floor_unregister() -> None:
    REGISTRY.pop(FLOOR, None)

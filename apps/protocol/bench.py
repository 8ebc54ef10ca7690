"""Micro-benchmark of the envelope hot paths; run `python -m apps.protocol.bench [--iterations N]`."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from .envelope import KeySet, build_request, build_response, encode_payload, open_request, parse_request

# The standard's published example key, used for all four secrets like in the test vectors.
_EXAMPLE_KEY = "1234567890abcdef"
KEYS = KeySet(_EXAMPLE_KEY, _EXAMPLE_KEY, _EXAMPLE_KEY, _EXAMPLE_KEY)

# A realistic notification_stationStatus push (~300 bytes of plaintext once serialised).
STATION_STATUS = {
    "ConnectorStatusInfo": {
        "OperatorID": "MA01H3BQ2",
        "EquipmentOwnerID": "MA01H3BQ2",
        "StationID": "110108000000000001",
        "EquipmentID": "11010800000000000100001",
        "ConnectorID": "1101080000000000010000101",
        "Status": 3,
        "ParkStatus": 10,
        "LockStatus": 10,
        "StatusTime": "2024-01-01 12:00:01",
        "CurrentA": 125.5,
        "VoltageA": 380.2,
        "SOC": 56.5,
    }
}


def _measure(operation: Callable[[], object], iterations: int) -> list[float]:
    samples: list[float] = []
    clock = time.perf_counter
    for _ in range(iterations):
        start = clock()
        operation()
        samples.append((clock() - start) * 1e6)
    return samples


def _report(name: str, operation: Callable[[], object], iterations: int, rounds: int) -> None:
    for _ in range(min(iterations, 1000)):  # warm caches (ECB key schedule, allocator) before measuring
        operation()
    medians: list[float] = []
    p99s: list[float] = []
    for index in range(rounds):
        samples = sorted(_measure(operation, iterations))
        median = statistics.median(samples)
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        medians.append(median)
        p99s.append(p99)
        print(f"  {name} round {index + 1}: median {median:7.1f} µs   p99 {p99:7.1f} µs")
    print(f"{name}: median of medians {statistics.median(medians):.1f} µs, median p99 {statistics.median(p99s):.1f} µs")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    request_body = build_request("MA01H3BQ2", STATION_STATUS, KEYS, timestamp="20240101120001", seq="0001").to_json()
    plaintext_size = len(encode_payload(STATION_STATUS).encode("utf-8"))
    print(f"request body {len(request_body)} bytes (plaintext {plaintext_size} bytes), {args.iterations} iterations")

    def inbound() -> object:
        return open_request(parse_request(request_body), KEYS)

    def outbound() -> object:
        return build_response(0, "", {"Status": 0}, KEYS).to_json()

    _report("parse+verify+decrypt request", inbound, args.iterations, args.rounds)
    _report("build+sign+encrypt response", outbound, args.iterations, args.rounds)


if __name__ == "__main__":
    main()

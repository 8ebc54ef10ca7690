"""Fixtures of the simulator tests: a portal stand-in receiving pushes and a factory of started simulators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from apps.simulator.simulator import Simulator

from .support import Receiver, make_sim


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def sims() -> Iterator[Callable[..., Simulator]]:
    """make_sim(**overrides) whose simulators are all stopped at teardown."""
    started: list[Simulator] = []

    def factory(**overrides: Any) -> Simulator:
        sim = make_sim(**overrides)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def pushing(sims: Callable[..., Simulator], receiver: Receiver) -> Callable[..., Simulator]:
    """Like `sims`, but pushing to the receiver."""

    def factory(**overrides: Any) -> Simulator:
        overrides.setdefault("portal_url", receiver.base_url)
        return sims(**overrides)

    return factory

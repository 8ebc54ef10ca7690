"""Seeded randomness: every random choice of the simulator derives from --seed, so a run can be repeated."""

from __future__ import annotations

import random
import zlib


def seeded(*parts: object) -> random.Random:
    """A generator seeded from the parts (str seeds hash with SHA-512: stable across runs and platforms)."""
    # Reproducible simulation data, not secrets: tokens come from the secrets module.
    return random.Random("/".join(map(str, parts)))  # noqa: S311


def stable_unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) for a tuple of values (crc32: cheap enough per station and render)."""
    return zlib.crc32("/".join(map(str, parts)).encode()) / 4_294_967_296

"""Control characters and lone surrogates are refused in every text field of every structure, with the field named."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from apps.protocol import schema
from apps.protocol.schema import INTERFACES, validate

from .test_schema_examples import EXAMPLES

HOSTILE = ["\x00", "\ud800", "\x1b", "\x7f", "\x85", "\n", "\udfff"]


def _text_leaves(value: Any, path: str = "") -> Iterator[tuple[str, list[Any] | dict[str, Any], Any]]:
    """(path as validate() reports it, container, key) of every string in a payload."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if isinstance(item, str):
                yield here, value, key
            else:
                yield from _text_leaves(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            here = f"{path}[{index}]"
            if isinstance(item, str):
                yield here, value, index
            else:
                yield from _text_leaves(item, here)


CASES = [
    (interface, side, path)
    for interface, sides in EXAMPLES.items()
    for side in (0, 1)
    for path, _, _ in _text_leaves(sides[side])
]


def test_every_interface_has_text_fields_to_check() -> None:
    assert {interface for interface, _, _ in CASES} == set(INTERFACES)
    assert len(CASES) > 150


@pytest.mark.parametrize(("interface", "side", "path"), CASES)
def test_a_hostile_character_in_any_text_field_is_refused_naming_it(interface: str, side: int, path: str) -> None:
    for char in HOSTILE:
        payload = copy.deepcopy(EXAMPLES[interface][side])
        leaf = next(leaf for leaf in _text_leaves(payload) if leaf[0] == path)
        _, container, key = leaf
        container[key] = container[key][:2] + char + container[key][2:]
        problems = validate(payload, INTERFACES[interface][side])
        assert [(p.path, p.rule) for p in problems] == [(path, schema.CHARACTERS)], (char, problems)
        assert f"U+{ord(char):04X}" in problems[0].message


def test_printable_text_is_untouched() -> None:
    # Chinese, full-width and ideographic spaces are text, not control characters.
    payload = copy.deepcopy(EXAMPLES["query_stations_info"][1])
    payload["StationInfos"][0]["StationName"] = "朝阳　公园（北门）"
    assert validate(payload, INTERFACES["query_stations_info"][1]) == []

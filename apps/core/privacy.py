"""Personal data shown to people who need not know it: phone numbers, plates and customer names masked."""

from __future__ import annotations

import re

# Mainland mobile numbers, and plates: province character, letter, 5–6 characters (new-energy plates have 6).
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_PLATE = re.compile(
    r"([京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼])([A-Z])[·]?([A-Z0-9]{3,5})([A-Z0-9挂学警])"
)


def mask_text(value: str) -> str:
    """Mobile numbers and plates inside any text: `138****5678`, `京A****8`."""
    value = _PHONE.sub(r"\1****\3", value)
    return _PLATE.sub(lambda m: f"{m.group(1)}{m.group(2)}{'*' * len(m.group(3))}{m.group(4)}", value)


def mask_name(value: str) -> str:
    """A person's name: the first character, the rest starred (`张**`)."""
    return value[0] + "*" * (len(value) - 1) if value else value

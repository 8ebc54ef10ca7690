"""统一社会信用代码 (GB 32100-2015): its check character, and the 9-character OperatorID taken from it (T/CEC 102.4)."""

from __future__ import annotations

__all__ = ["ALPHABET", "check_character", "credit_code_problem", "operator_id_from_credit_code"]

# The code's 31 characters (no I, O, S, V, Z), in value order; position weights are 3^i mod 31.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = [pow(3, i, 31) for i in range(17)]
LENGTH = 18


def check_character(body: str) -> str:
    """The 18th character for a 17-character body (ValueError on a character outside the alphabet)."""
    if len(body) != LENGTH - 1:
        raise ValueError("the body of a credit code is 17 characters")
    total = sum(_VALUE[c] * w for c, w in zip(body, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> str | None:
    """Why `code` is not a valid 统一社会信用代码, in Chinese, or None."""
    if len(code) != LENGTH:
        return f"应为18位，实际为{len(code)}位"
    wrong = [c for c in code if c not in _VALUE]
    if wrong:
        return f"含有不允许的字符“{wrong[0]}”（只允许数字和除 I、O、S、V、Z 外的大写字母）"
    # The message never names the expected character: the form would then compute valid codes for anyone.
    if code[-1] != check_character(code[:-1]):
        return "校验位错误：不是有效的统一社会信用代码，请核对后重新填写"
    return None


def operator_id_from_credit_code(code: str) -> str:
    """Characters 9–17 (drop the first 8 and the check character): e.g. 91330110MABM7G6QXL → MABM7G6QX."""
    return code[8:17]

"""统一社会信用代码: the GB 32100 check character and the OperatorID taken from characters 9–17."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.protocol.creditcode import ALPHABET, check_character, credit_code_problem, operator_id_from_credit_code


def test_the_specs_example():
    # transport-and-security.md: USCC 91330110MABM7G6QXL → OperatorID MABM7G6QX
    assert credit_code_problem("91330110MABM7G6QXL") is None
    assert operator_id_from_credit_code("91330110MABM7G6QXL") == "MABM7G6QX"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91330110MABM7G6QXA", "校验位错误"),
        ("91330110MABM7G6QX", "应为18位"),
        ("91330110MABM7G6QOL", "不允许的字符“O”"),
        ("91330110mabm7g6qxl", "不允许的字符"),
    ],
)
def test_problems_are_named(code, words):
    assert words in credit_code_problem(code)


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17), st.integers(0, 16), st.sampled_from(ALPHABET))
def test_any_single_character_change_is_caught(body, position, replacement):
    code = body + check_character(body)
    assert credit_code_problem(code) is None
    changed = code[:position] + replacement + code[position + 1 :]
    # One character changed in the body always changes the check character (31 is prime, every weight non-zero).
    assert (credit_code_problem(changed) is None) == (changed == code)

"""The connector QR string of appendix A, built and parsed."""

import pytest

from apps.protocol.qr import qr_parse, qr_text


def test_the_standard_string():
    assert qr_text("3702030162102", "395815801") == "hlht://3702030162102.395815801/"


@pytest.mark.parametrize(
    ("text", "connector", "operator", "custom", "extra"),
    [
        ("hlht://3702030162102.395815801/", "3702030162102", "395815801", "", ()),
        ("hlht://47756771.MA59CU773/", "47756771", "MA59CU773", "", ()),
        ("hlht://20111.074842972/xxx", "20111", "074842972", "xxx", ()),
        ("HLHT://20111.074842972", "20111", "074842972", "", ()),
        ("hlht://a.b.c.074842972/x", "a.b.c", "074842972", "x", ()),  # split on the last dot
        ("hlht://C1.MA59CU773/?extra=30|500", "C1", "MA59CU773", "?extra=30|500", ("30", "500")),
        ("hlht://C1.MA59CU773?extra=0|0", "C1", "MA59CU773", "?extra=0|0", ("0", "0")),
    ],
)
def test_scanned_codes_parse(text, connector, operator, custom, extra):
    code = qr_parse(text)
    assert (code.connector_id, code.operator_id, code.custom, code.extra) == (connector, operator, custom, extra)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("https://example.com/C1", "hlht://"),
        ("hlht://C1/", "运营商ID"),
        ("hlht://C1.12345/", "9位"),
        ("hlht://" + "9" * 27 + ".MA59CU773/", "最长26位"),
        ("hlht://.MA59CU773/", "充电设备接口编码"),
    ],
)
def test_what_is_not_a_connector_code_is_refused_with_the_reason(text, why):
    with pytest.raises(ValueError, match=why):
        qr_parse(text)

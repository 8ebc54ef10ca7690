"""The public pages (/apply/, /apply/status/) as a person sees them, at 1,440 px and on a 390 px phone: nothing wider
than the screen (each element measured, not only the document), every input with a visible label and the required
ones marked, an invalid submit's errors right under their fields naming them, the workbench's header and fonts."""

import pytest
from django.core.cache import cache

from apps.protocol.creditcode import check_character

pytestmark = pytest.mark.django_db(transaction=True)

BODY = "91110108MA01CN7K2"
CODE = BODY + check_character(BODY)
WRONG = BODY + ("A" if CODE[-1] != "A" else "B")
ERROR_RED = "rgb(186, 33, 33)"  # the admin's --error-fg
COLUMN = 46 * 16  # public.css: the column is 46rem at 1,440 px

# Every element that is drawn: its box must lie within the viewport, and its content within its box (an element
# that scrolls inside itself hides what sticks out, as the admin's .results scroller did). Inputs scroll their own
# text by design and are measured by their box only.
OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  const classes = el => typeof el.className === 'string' ? el.className.trim().split(/\\s+/).filter(Boolean) : [];
  const name = el => [el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), ...classes(el)].join('.');
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > vw + 0.5 || r.left < -0.5)
      out.push(`${name(el)} spans ${Math.round(r.left)}–${Math.round(r.right)} of ${vw}`);
    const own = ['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName);
    if (!own && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      out.push(`${name(el)} holds ${el.scrollWidth} px in ${el.clientWidth}`);
  }
  const doc = document.scrollingElement;
  if (doc.scrollWidth > doc.clientWidth)
    out.push(`the document scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
  return out;
}"""

# Each input a person fills: the labels that are actually drawn, the group legend for a checkbox, the * mark.
CONTROLS_JS = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden').map(el => {
  const drawn = n => { const r = n.getBoundingClientRect(), s = getComputedStyle(n);
                       return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const labels = [...el.labels].filter(l => drawn(l) && l.innerText.trim());
  const group = el.type === 'checkbox' ? el.closest('fieldset:not(.module)') : null;
  const legend = group ? group.querySelector('legend') : null;
  const owner = legend || labels[0];
  const mark = owner ? owner.querySelector('.required-mark') : null;
  const r = el.getBoundingClientRect();
  return {id: el.id, type: el.type, labels: labels.map(l => l.innerText.trim()),
          legend: legend && drawn(legend) ? legend.innerText.trim() : null,
          required: el.required, ariaRequired: el.getAttribute('aria-required'),
          mark: mark && drawn(mark) ? {text: mark.innerText, color: getComputedStyle(mark).color} : null,
          left: r.left, width: r.width};
})"""

# Each field showing an error: where the error list is against the input, what it says, whether the input names it.
ERRORS_JS = """() => [...document.querySelectorAll('.field.errors')].map(block => {
  const input = block.querySelector('input:not([type=checkbox]), select') || block.querySelector('input');
  const list = block.querySelector('ul.errorlist');
  const label = block.querySelector('.label');
  const i = input.getBoundingClientRect(), e = list.getBoundingClientRect();
  return {field: block.id, label: label.innerText.replace(/[*：]/g, '').trim(), text: list.innerText.trim(),
          color: getComputedStyle(list).color, gap: e.top - i.bottom, dx: e.left - i.left, drawn: e.height > 0,
          describedBy: (input.getAttribute('aria-describedby') || '').split(' ').includes(list.id),
          invalid: input.getAttribute('aria-invalid')};
})"""

# The workbench's primary colour (its log-in button) is the public pages' header colour; the font is the same.
WORKBENCH_LOOK_JS = """() => ({
  primary: getComputedStyle(document.querySelector('#login-form [type=submit]')).backgroundColor,
  font: getComputedStyle(document.body).fontFamily})"""
LOOK_JS = """() => ({primary: getComputedStyle(document.querySelector('#header')).backgroundColor,
  font: getComputedStyle(document.body).fontFamily})"""


@pytest.fixture(params=[1440, 390], ids=lambda width: f"{width}px")
def width(request):
    return request.param


@pytest.fixture
def screen(browser, width):
    """A desktop window at 1,440 px, or a phone at 390 px that honours the pages' viewport meta as a phone does."""
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": 844 if phone else 900}, is_mobile=phone, has_touch=phone, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _fresh_limit():
    cache.clear()  # the per-address limit: every test here submits a few times from 127.0.0.1
    yield
    cache.clear()


def _fits(page):
    assert page.evaluate(OVERFLOW_JS) == []


def _controls_are_labelled_and_marked(page, width):
    controls = page.evaluate(CONTROLS_JS)
    assert controls
    for control in controls:
        if control["type"] in ("submit", "button"):
            continue
        assert control["labels"], f"{control['id']} has no visible label"
        if control["type"] == "checkbox":  # its own label names the option; the group's legend names the field
            assert control["legend"] and control["legend"].endswith("："), control
        else:
            assert control["labels"][0].endswith("："), control  # the full-width colon
            assert ":" not in control["labels"][0], control
        if control["required"]:
            assert control["ariaRequired"] == "true", control
            assert control["mark"] == {"text": "*", "color": ERROR_RED}, control
        else:
            assert control["mark"] is None, control
        if control["type"] not in ("checkbox", "radio"):  # inputs take the column's width
            assert control["width"] >= (0.85 * width if width < 600 else COLUMN - 80), control
    return controls


def _column_is_centred(page, width):
    box = page.locator("#content").bounding_box()
    if width >= 1000:
        assert box["width"] <= COLUMN
        assert abs(box["x"] - (width - box["x"] - box["width"])) <= 16  # centred (a scrollbar may take a side)
    else:
        assert box["x"] == 0 and box["width"] >= width - 1


def _errors_under_their_fields(page):
    errors = page.evaluate(ERRORS_JS)
    assert errors
    for error in errors:
        assert error["drawn"] and error["color"] == ERROR_RED, error
        assert 0 <= error["gap"] <= 16 and abs(error["dx"]) <= 1, error  # right under its input, aligned with it
        assert error["label"] in error["text"], error  # the message names the field
        assert error["describedBy"] and error["invalid"] == "true", error
    return {error["field"]: error["text"] for error in errors}


def test_the_application_form(screen, live_server, width, shot):
    page = screen
    page.goto(f"{live_server.url}/apply/")
    assert page.inner_text("h1") == "运营商接入申请"
    assert page.locator('nav a[aria-current="page"]').inner_text() == "接入申请"
    _fits(page)
    _column_is_centred(page, width)
    controls = _controls_are_labelled_and_marked(page, width)
    assert {c["id"] for c in controls if c["required"]} == {
        "id_legal_name", "id_credit_code", "id_kind", "id_contact_name", "id_contact_phone", "id_service_tel",
        "id_email", "id_base_url", "id_station_count", "id_connector_count",
    }  # fmt: skip
    shot(page, f"public-apply-{width}")

    # An invalid submit: each error under its field, the check-character one saying only that the code is invalid.
    page.fill("#id_legal_name", "北京测试充电科技有限公司")
    page.fill("#id_credit_code", WRONG)
    page.fill("#id_email", "ops@example")
    page.fill("#id_station_count", "-1")
    page.fill("#id_base_url", "http://127.0.0.1:9/evcs/v1/" + "very-long-path-segment/" * 6)
    page.click("button[type=submit]")
    assert page.locator(".errornote[role=alert]").inner_text() == "请更正下列8处错误。"
    errors = _errors_under_their_fields(page)
    assert errors["field-credit_code"] == "统一社会信用代码校验位错误：不是有效的统一社会信用代码，请核对后重新填写"
    assert CODE not in page.content()
    assert errors["field-email"].startswith("联系邮箱不是有效的邮件地址")
    assert errors["field-station_count"] == "充电站数量不能小于0"
    assert errors["field-kind"] == "请选择类型"
    assert "field-legal_name" not in errors and "field-base_url" not in errors
    _fits(page)  # the errors, and a long address typed in, change nothing of the widths
    shot(page, f"public-apply-errors-{width}")
    if width < 600:
        shot(page, "onboarding-phone")


def test_the_submitted_application_and_its_status(screen, live_server, width, shot):
    page = screen
    page.goto(f"{live_server.url}/apply/status/")
    assert page.inner_text("h1") == "查询申请进度"
    assert page.locator('nav a[aria-current="page"]').inner_text() == "查询申请进度"
    _fits(page)
    _column_is_centred(page, width)
    _controls_are_labelled_and_marked(page, width)
    page.fill("#id_email", "not-an-address")
    page.click("button[type=submit]")
    errors = _errors_under_their_fields(page)
    assert errors == {"field-reference": "请填写申请编号", "field-email": page.inner_text("#id_email_error")}
    assert errors["field-email"].startswith("联系邮箱不是有效的邮件地址")
    _fits(page)

    # A real application with the longest name and a long address, through the form, then its status.
    name = "北京" + "测试充电科技" * 10 + "有限公司"
    email = "operations.department.contact@" + "subdomain." * 4 + "example.com"
    page.goto(f"{live_server.url}/apply/")
    for field, value in {"legal_name": name[:64], "credit_code": CODE, "contact_name": "张工",
                         "contact_phone": "13800000000", "service_tel": "400-800-0000", "email": email,
                         "base_url": "http://127.0.0.1:9/evcs/v1/", "station_count": "20",
                         "connector_count": "200"}.items():  # fmt: skip
        page.fill(f"#id_{field}", value)
    page.select_option("#id_kind", "operator")
    page.click("button[type=submit]")
    reference = page.inner_text("#reference")
    assert page.inner_text("h1") == "申请已提交"
    _fits(page)
    shot(page, f"public-submitted-{width}")

    page.click("nav >> text=查询申请进度")
    page.fill("#id_reference", reference)
    page.fill("#id_email", email)
    page.click("button[type=submit]")
    status = page.locator("#status")
    assert reference in status.inner_text() and "待审核" in status.inner_text()
    _fits(page)
    shot(page, f"public-status-{width}")

    page.fill("#id_reference", reference)
    page.fill("#id_email", "someone.else@example.com")
    page.click("button[type=submit]")
    assert page.locator(".errornote[role=alert]").inner_text() == "没有找到该申请：请核对申请编号和联系邮箱"
    _fits(page)


def test_the_public_pages_wear_the_workbenchs_header_and_fonts(screen, live_server):
    page = screen
    page.goto(f"{live_server.url}/admin/login/")
    workbench = page.evaluate(WORKBENCH_LOOK_JS)
    assert "PingFang SC" in workbench["font"] and workbench["primary"] not in ("", "rgba(0, 0, 0, 0)")
    for path in ("/apply/", "/apply/status/"):
        page.goto(live_server.url + path)
        assert page.evaluate(LOOK_JS) == workbench, path

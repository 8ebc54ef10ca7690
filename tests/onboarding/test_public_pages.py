"""The public pages' markup: labels with the full-width colon, required fields marked for eyes and for assistive
technology, help under each field, and every error naming its field right under it."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from apps.onboarding.forms import ApplicationForm, StatusForm

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limit():
    cache.clear()
    yield
    cache.clear()


def _block(html: str, name: str) -> str:
    """The markup of one field's block (the div id="field-NAME" up to the next field's)."""
    start = html.index(f'id="field-{name}"')
    end = html.find('id="field-', start + 1)
    return html[start : end if end != -1 else None]


@pytest.mark.parametrize(
    ("url", "form_class"), [("onboarding:apply", ApplicationForm), ("onboarding:status", StatusForm)]
)
def test_every_field_is_labelled_with_a_full_width_colon_and_required_ones_marked(client, url, form_class):
    html = client.get(reverse(url)).content.decode()
    assert 'href="/static/hlht/public.css"' in html and 'href="/static/admin/css/base.css"' in html
    for name, field in form_class().fields.items():
        block = _block(html, name)
        assert f"{field.label}：" in block and f"{field.label}:" not in block, name
        marked = 'class="required-mark"' in block
        assert marked == field.required, name
        if field.required:
            assert re.search(r"<input[^>]*\brequired\b[^>]*>|<select[^>]*\brequired\b", block), name
            assert 'aria-required="true"' in block, name
        assert field.help_text and f'id="id_{name}_helptext"' in block, name


def test_the_application_form_groups_every_field_once():
    form = ApplicationForm()
    grouped = [name for _, names in form.groups for name in names]
    assert sorted(grouped) == sorted(form.fields) and len(grouped) == len(set(grouped))


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"legal_name": "x" * 70}, "legal_name", "单位名称最多64个字符（现有70个）"),
        ({"kind": ""}, "kind", "请选择类型"),
        ({"kind": "nonsense"}, "kind", "类型只能从所列选项中选择"),
        ({"email": "not-an-address"}, "email", "联系邮箱不是有效的邮件地址"),
        ({"base_url": "ftp://x"}, "base_url", "平台接口地址不是有效的网址"),
        ({"station_count": "-1"}, "station_count", "充电站数量不能小于0"),
        ({"station_count": "abc"}, "station_count", "充电站数量应为整数"),
        ({"connector_count": "99999999"}, "connector_count", "充电接口数量不能大于10000000"),
    ],
)
def test_each_error_names_its_field_under_the_input(client, changes, field, text):
    data = {"legal_name": "北京测试充电科技有限公司", "kind": "operator", "email": "ops@example.com"}
    data.update(changes)
    html = client.post(reverse("onboarding:apply"), data).content.decode()
    block = _block(html, field)
    assert text in block
    # Under the input, and tied to it: the list's id is the one the input's aria-describedby names.
    assert block.index(f'id="id_{field}"') < block.index(f'id="id_{field}_error"') < block.index(text)
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error[^"]*"', block)
    assert 'aria-invalid="true"' in block


def test_the_status_page_names_its_errors_and_the_current_page(client):
    html = client.post(reverse("onboarding:status"), {"reference": "", "email": "x"}).content.decode()
    assert "请更正下列2处错误" in html
    assert "请填写申请编号" in _block(html, "reference") and "联系邮箱不是有效的邮件地址" in _block(html, "email")
    assert re.search(r'href="/apply/status/" aria-current="page"', html)
    missing = client.post(reverse("onboarding:status"), {"reference": "SQ2345678923", "email": "x@example.com"})
    assert 'role="alert">没有找到该申请' in missing.content.decode()

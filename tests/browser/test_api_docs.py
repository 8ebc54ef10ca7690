"""The API docs as a platform engineer meets them: no login, only a token typed into the page's bar."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_engineer_with_only_a_token_reads_every_endpoint(page, live_server, shot):
    engineer = get_user_model().objects.create_user("engineer", password="pw-for-tests-only", is_staff=True)
    token = Token.objects.create(user=engineer)
    page.goto(f"{live_server.url}/api/docs/")
    # Without a token the schema is refused (401) and the page says so in its bar.
    assert "未认证" in page.inner_text("#hlht-token-state")
    page.fill("#hlht-token-input", token.key)
    page.click("#hlht-token button[type=submit]")
    page.wait_for_selector(".opblock-tag-section", timeout=15_000)
    assert page.inner_text("#hlht-token-state") == "已使用令牌"
    tags = page.locator(".opblock-tag").all_inner_texts()
    assert any(t.startswith("充电订单") for t in tags) and any(t.startswith("车主接口") for t in tags)
    # The driver's POSTs are there, with Chinese summaries.
    page.click("#operations-tag-车主接口")
    post = page.locator("#operations-车主接口-driver_sessions_create")
    assert "POST" in post.inner_text() and "开始充电" in post.inner_text()
    # Nothing runs past the right edge of a 1,440 px window.
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert overflow == []
    shot(page, "api-docs")

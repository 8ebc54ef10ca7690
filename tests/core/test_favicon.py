"""The favicon: browsers ask for /favicon.ico on every first page; the portal answers with its icon, not a 404."""

from django.contrib.staticfiles import finders


def test_favicon_ico_redirects_to_the_icon_every_page_links(client, db):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301
    assert answer["Location"].endswith("/static/hlht/favicon.svg")
    assert finders.find("hlht/favicon.svg")  # the file is there to be served
    for page in ("/admin/login/", "/apply/"):
        assert 'rel="icon" href="/static/hlht/favicon.svg"' in client.get(page).content.decode()

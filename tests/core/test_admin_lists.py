"""Every admin list reads the same way: its title is its name whoever opens it, and its filters offer labels, never the
bare codes stored in the table (`0`, `-`, `2`, `4`)."""

import gettext
import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.demo.data import demo_load

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"
BARE_CODE = re.compile(r"[-\d.]+")


# Sidebar entries registered as view-only proxies whose "list" is a page of its own (apps/indicators/admin.py).
PAGES = {"indicators.IndicatorExplorer", "indicators.ScorecardBoard"}


def _lists(client, username: str):
    client.force_login(get_user_model().objects.get(username=username))
    for model in admin.site._registry:
        if model._meta.label in PAGES:
            continue
        response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        if response.status_code == 403:
            continue
        assert response.status_code == 200, model._meta.label
        yield model, response


@pytest.mark.parametrize("username", ["admin", "regulator", "operator1"])
def test_a_lists_title_is_its_name_and_its_filters_offer_labels(client, username):
    demo_load(seed=1)
    titles, codes, seen = {}, {}, 0
    for model, response in _lists(client, username):
        seen += 1
        if response.context_data["title"] != model._meta.verbose_name_plural:
            titles[model._meta.label] = response.context_data["title"]
        if not model.__module__.startswith("apps."):
            continue  # Django's own user and group admin (platform administrators only) keeps Django's filters
        changelist = response.context_data["cl"]
        for spec in changelist.filter_specs:
            bare = [str(c["display"]) for c in spec.choices(changelist) if BARE_CODE.fullmatch(str(c["display"]))]
            if bare:
                codes[f"{model._meta.label} {spec.title}"] = bare
    assert seen > 10
    assert not titles, titles
    assert not codes, codes


def test_the_compiled_catalogue_is_the_source_one():
    source = dict(re.findall(r'msgid "(.+)"\nmsgstr "(.*)"', (LOCALE / "django.po").read_text()))
    with (LOCALE / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    assert source and {msgid: catalogue.gettext(msgid) for msgid in source} == source

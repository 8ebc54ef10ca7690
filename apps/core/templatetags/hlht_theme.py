"""`{% theme_colours %}`: the admin theme's colours (settings.UNFOLD["COLORS"]) as CSS variables, for pages drawn
outside the admin (the public onboarding pages), so the workbench's colours are chosen in one place."""

from typing import cast

from django import template
from django.conf import settings
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag
def theme_colours() -> str:
    colours = cast(dict[str, dict[str, str]], settings.UNFOLD["COLORS"])
    rules = format_html_join(
        "",
        "--color-{}-{}: {};",
        ((name, weight, value) for name, steps in colours.items() for weight, value in steps.items()),
    )
    return format_html("<style>:root {{ {} }}</style>", rules)

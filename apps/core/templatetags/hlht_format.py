"""The number formats as template filters: `{% load hlht_format %}` then `{{ x|kwh }}`, `{{ x|yuan }}`,
`{{ n|count }}` (apps.core.formatting)."""

from django import template

from apps.core import formatting

register = template.Library()
register.filter("kwh", formatting.kwh)
register.filter("yuan", formatting.yuan)
register.filter("count", formatting.count)

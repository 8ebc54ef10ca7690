"""Filters given values no column can compare with — out-of-range time-zone offsets, nan, inf, years past 9999 —
answer 400 naming the filter, never 500 (issue 21 item 7)."""

import pytest

pytestmark = pytest.mark.django_db

HOSTILE = [
    ("equipment", "power_min", "nan"),
    ("equipment", "power_max", "inf"),
    ("connectors", "power_min", "-Infinity"),
    ("connectors", "power_max", "1E+999999"),
    ("connectors", "updated_since", "2024-01-01T00:00:00+99:00"),
    ("connectors", "updated_since", "2024-01-01T00:00:00-24:00"),
    ("status-history", "since", "0001-01-01T00:00:00+23:59"),
    ("status-history", "until", "9999-12-31T23:59:59-23:59"),
    ("orders", "ended_since", "2024-01-01T00:00:00+25:00"),
    ("sync-runs", "started_since", "2024-01-01T00:00:00+99:99"),
    ("directory-changes", "run", "nan"),
    ("directory-changes", "run", "inf"),
    ("policies", "in_force_at", "2024-01-01T00:00:00+48:00"),
]


@pytest.mark.parametrize(("endpoint", "name", "value"), HOSTILE)
def test_a_hostile_filter_value_is_400_naming_the_filter(as_regulator, city, endpoint, name, value):
    response = as_regulator.get(f"/api/{endpoint}/", {name: value})
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert list(response.json()) == [name]

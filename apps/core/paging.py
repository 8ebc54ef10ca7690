"""Pages of very large tables (the journal, the status history): counts that stop counting, keyset-ordered pages.

A changelist or an API list of a table with millions of rows must not count them all on every page: counting is a
full scan. `BoundedCountPaginator` counts up to COUNT_CAP rows exactly (an index scan that stops there) and beyond
that answers PostgreSQL's planner estimate (EXPLAIN, milliseconds), never less than the cap. Pages deeper than
MAX_PAGES are refused as out of range: the way to old rows is a date or operator filter, not page 4,000 of OFFSET.
"""

from __future__ import annotations

import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections

COUNT_CAP = 10_000
MAX_PAGES = 200


def bounded_count(queryset, cap: int = COUNT_CAP) -> int:
    """The exact count when below `cap`, else the planner's estimate of it (at least `cap`)."""
    counted = queryset.order_by()[: cap + 1].count()
    if counted <= cap:
        return counted
    db = connections[queryset.db]
    if db.vendor != "postgresql":
        return counted
    sql, params = queryset.order_by().query.sql_with_params()
    with db.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return max(counted, int(plan[0]["Plan"]["Plan Rows"]))


class BoundedCountPaginator(Paginator):
    """A Paginator whose count is `bounded_count` and whose pages stop at MAX_PAGES."""

    @cached_property
    def count(self) -> int:
        return bounded_count(self.object_list)

    @cached_property
    def num_pages(self) -> int:
        return min(super().num_pages, MAX_PAGES)

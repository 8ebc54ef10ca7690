"""What the next history row of an instance says (simple-history's 修改原因 and 修改人), set in one typed place."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Model


def history_note(instance: Model, reason: str, *, user: User | None = None) -> None:
    """The reason (and, when given, who) the history row written by the instance's next save() records.

    The user is for saves outside a request (a command, a task), where simple-history's middleware knows nobody.
    """
    # simple-history's documented hook: attributes it reads from the instance when it writes the row; the models
    # do not declare them, hence the ignores.
    instance._change_reason = reason  # type: ignore[attr-defined]
    if user is not None:
        instance._history_user = user  # type: ignore[attr-defined]

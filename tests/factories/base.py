"""What every factory module shares: the portal's time zone, a fixed moment, and the people who log in."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Rows describe a fixed day unless a test says otherwise, so figures and orderings never depend on the clock.
MOMENT = datetime(2024, 1, 1, 12, 0, tzinfo=SHANGHAI)


class UserFactory(factory.django.DjangoModelFactory):
    """A login. The password is unusable unless given: tests log in with force_login, and hashing costs time."""

    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.LazyFunction(lambda: make_password(None))


class StaffFactory(UserFactory):
    """A person who works in the admin (their group says what they may do there)."""

    is_staff = True

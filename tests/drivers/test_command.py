"""hlht_driver: a driver and a token for the driver API from the command line."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_it_registers_tops_up_and_prints_a_working_token(client):
    out = StringIO()
    call_command("hlht_driver", phone="13812345678", top_up="80", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["balance"] == "80.00"
    wallet = client.get("/api/driver/wallet/", HTTP_AUTHORIZATION=f"Token {printed['token']}").json()
    assert wallet["balance"] == "80.00" and wallet["results"][0]["kind"] == "top_up"
    again = StringIO()
    call_command("hlht_driver", phone="13812345678", top_up="20", stdout=again)
    assert json.loads(again.getvalue()) == {**printed, "balance": "100.00"}  # the same driver, the same token


@pytest.mark.parametrize(("options", "message"), [({"phone": "123"}, "phone"), ({"phone": "13812345678",
                                                  "top_up": "abc"}, "top-up")])  # fmt: skip
def test_bad_input_names_the_field(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("hlht_driver", stdout=StringIO(), **options)

"""A connector's QR code in the admin: a PNG that decodes to the appendix-A string, downloadable, within scope."""

import io

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def connector(directory):
    return directory["connectors"]["123456789"]


def test_the_png_decodes_to_the_standard_string(client, regulator, connector):
    client.force_login(regulator)
    response = client.get(reverse("admin:stations_connector_qr", args=[connector.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))]
    assert decoded == [f"hlht://{connector.connector_id}.{connector.operator_id}/"]


def test_the_connector_page_shows_it_and_offers_a_download(client, regulator, connector):
    client.force_login(regulator)
    page = client.get(reverse("admin:stations_connector_change", args=[connector.pk])).content.decode()
    assert f"hlht://{connector.connector_id}.{connector.operator_id}/" in page and "下载二维码" in page
    download = client.get(reverse("admin:stations_connector_qr", args=[connector.pk]), {"download": 1})
    assert download["Content-Disposition"].startswith('attachment; filename="hlht-123456789-')


def test_an_account_manager_gets_only_their_own_connectors_code(client, manager_a, directory):
    client.force_login(manager_a)
    own, theirs = directory["connectors"]["123456789"], directory["connectors"]["MA59CU773"]
    assert client.get(reverse("admin:stations_connector_qr", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:stations_connector_qr", args=[theirs.pk])).status_code == 404


def test_nobody_outside_the_admin_gets_a_code(client, connector):
    response = client.get(reverse("admin:stations_connector_qr", args=[connector.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_long_connector_id_still_decodes(client, regulator, directory):
    connector = factories.connector(factories.equipment(factories.station(directory["a"], "SLONG"), "ELONG"), "C" * 26)
    client.force_login(regulator)
    png = client.get(reverse("admin:stations_connector_qr", args=[connector.pk])).content
    assert zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text == f"hlht://{'C' * 26}.123456789/"

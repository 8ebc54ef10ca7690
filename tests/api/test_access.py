"""Who may read the API: session and token logins, anonymous refused, and the scope rule on every endpoint."""

import pytest
from rest_framework.authtoken.models import Token

from tests.api.conftest import ENDPOINTS, A, B

pytestmark = pytest.mark.django_db


def detail_key(row: dict):
    # Operators are keyed by their OperatorID; every other resource by the portal's own id.
    return row.get("id", row["OperatorID"])


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "schema"])
def test_anonymous_is_refused_with_a_token_challenge(api, city, endpoint):
    response = api.get(f"/api/{endpoint}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_script_reads_with_its_token(api, city, regulator):
    token = Token.objects.create(user=regulator)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get("/api/stations/")
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_a_wrong_token_is_refused(api, city, regulator):
    Token.objects.create(user=regulator)
    api.credentials(HTTP_AUTHORIZATION="Token 0000000000000000000000000000000000000000")
    assert api.get("/api/stations/").status_code == 401


def test_a_person_logged_into_the_admin_reads_with_the_session(client, city, regulator):
    assert client.login(username="reg", password="pw-for-tests-only")
    response = client.get("/api/connectors/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["count"] == 3


def test_the_browsable_api_renders_for_a_person(as_regulator, city):
    response = as_regulator.get("/api/stations/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "HD-DEPOT" in response.content.decode()


def test_a_logged_in_user_without_a_role_sees_nothing(api, city, django_user_model):
    # Without the view permission the answer is 403, as the admin's list answers (apps.core.roles: one rule).
    api.force_login(django_user_model.objects.create_user("nobody", password="pw-for-tests-only"))
    assert api.get("/api/stations/").status_code == 403


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_regulator_sees_both_operators(as_regulator, city, endpoint):
    rows = as_regulator.get(f"/api/{endpoint}/").json()["results"]
    assert {row["OperatorID"] for row in rows} == {A, B}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_operator_manager_sees_only_their_operator(api, city, regulator, manager_a, endpoint):
    api.force_login(regulator)
    everything = api.get(f"/api/{endpoint}/").json()["results"]
    theirs = next(row for row in everything if row["OperatorID"] == B)
    ours = next(row for row in everything if row["OperatorID"] == A)

    api.force_login(manager_a)
    response = api.get(f"/api/{endpoint}/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == sum(row["OperatorID"] == A for row in everything)
    assert {row["OperatorID"] for row in body["results"]} == {A}
    assert api.get(f"/api/{endpoint}/{detail_key(ours)}/").status_code == 200
    assert api.get(f"/api/{endpoint}/{detail_key(theirs)}/").status_code == 404


def test_operator_manager_cannot_name_another_operator_in_a_filter(as_manager_a, city):
    # Another operator is as unknown to them as one that does not exist: an invalid value, not an empty page.
    response = as_manager_a.get("/api/stations/", {"operator": B})
    assert response.status_code == 400
    assert "operator" in response.json()


def test_station_detail_nests_only_what_the_station_holds(as_manager_a, city):
    depot = city["depot"]
    body = as_manager_a.get(f"/api/stations/{depot.pk}/").json()
    assert [e["EquipmentID"] for e in body["EquipmentInfos"]] == ["EQ-AC"]
    assert [c["ConnectorID"] for c in body["EquipmentInfos"][0]["ConnectorInfos"]] == ["CN-AC"]


def test_schema_names_every_endpoint(as_regulator):
    response = as_regulator.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for endpoint in ENDPOINTS:
        assert f"/api/{endpoint}/" in schema["paths"]
        assert f"/api/{endpoint}/{{id}}/" in schema["paths"]
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    # Read-only for people and scripts: no path offers anything but GET, except the drivers' own API.
    people = {p: ops for p, ops in schema["paths"].items() if not p.startswith("/api/driver/")}
    assert {method for ops in people.values() for method in ops if method != "parameters"} == {"get"}
    driver = {p: set(ops) for p, ops in schema["paths"].items() if p.startswith("/api/driver/")}
    assert "post" in driver["/api/driver/sessions/"] and "post" in driver["/api/driver/sessions/{seq}/stop/"]


def test_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/connectors/" in (tmp_path / "schema.yml").read_text()


def test_docs_page_is_swagger_ui_from_the_portal_itself(client):
    # The page is the portal's static shell, open without a login so that a platform engineer with only a token can
    # read it; every script and style is the portal's own (drf-spectacular-sidecar), none from a CDN.
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "API 令牌" in html and "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert 'src="http' not in html and 'href="http' not in html and "//cdn" not in html
    assert 'url: "/api/schema/"' in html


def test_schema_is_in_chinese_and_documents_every_endpoint(api, regulator):
    token = Token.objects.create(user=regulator)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    schema = api.get("/api/schema/?format=json").json()
    assert schema["info"]["description"].startswith("北京市充电设施公共服务管理平台的 REST 接口")
    operations = [(path, method, op) for path, ops in schema["paths"].items() for method, op in ops.items()]
    missing = [(path, method) for path, method, op in operations if not op.get("summary")]
    assert missing == []
    # Each summary is Chinese, each tag has its Chinese name, the driver's POSTs are documented.
    assert all(any("\u4e00" <= c <= "\u9fff" for c in op["summary"]) for _, _, op in operations)
    assert {tag["name"] for tag in schema["tags"]} >= {"充电订单", "争议订单", "车主接口"}
    assert schema["paths"]["/api/driver/sessions/"]["post"]["summary"].startswith("开始充电")
    assert schema["paths"]["/api/orders/"]["get"]["tags"] == ["充电订单"]


@pytest.mark.parametrize("path", ["/api/driver/sessions/", "/api/driver/wallet/", "/api/driver/orders/"])
def test_driver_api_without_a_token_is_401_not_403(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def _times(value, found: list[str]) -> list[str]:
    if isinstance(value, dict):
        for item in value.values():
            _times(item, found)
    elif isinstance(value, list):
        for item in value:
            _times(item, found)
    elif isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        found.append(value)
    return found


def test_every_time_the_api_shows_is_beijing_time_in_one_format(as_regulator, city):
    times: list[str] = []
    for endpoint in ENDPOINTS:
        _times(as_regulator.get(f"/api/{endpoint}/", HTTP_ACCEPT="application/json").json(), times)
    assert len(times) > 20  # the city has times to show
    assert [t for t in times if not t.endswith("+08:00")] == []


def test_the_rest_api_spells_service_correctly_where_the_wire_keeps_the_standards_typo(as_regulator, city):
    # The schema names no misspelt key anywhere; an order and a policy carry the service money and price spelled
    # correctly (the protocol's envelopes keep SevicePrice / TotalSeviceMoney, tested in tests/protocol).
    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)
        elif isinstance(node, list):
            for value in node:
                yield from keys(value)

    schema = as_regulator.get("/api/schema/", {"format": "json"}).json()
    assert [key for key in keys(schema) if "sevice" in key.lower()] == []
    assert "TotalServiceMoney" in schema["components"]["schemas"]["ChargeOrder"]["properties"]
    order = as_regulator.get("/api/orders/").json()["results"][0]
    assert "TotalServiceMoney" in order and "TotalSeviceMoney" not in order
    assert all("ServicePrice" in d and "DetailServiceMoney" in d for d in order["ChargeDetails"])
    policy = as_regulator.get("/api/policies/").json()["results"][0]
    assert [set(p) for p in policy["PolicyInfos"]] == [{"StartTime", "ElecPrice", "ServicePrice"}]

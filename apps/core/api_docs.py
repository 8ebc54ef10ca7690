"""The REST API's documentation: Swagger UI served from the portal (drf-spectacular-sidecar), in Chinese, with a token.

The code's docstrings are written for engineers who read the code; a platform engineer reads the API in Chinese, so
each group of endpoints gets its Chinese name and description here, once, and every operation a Chinese summary.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import AllowAny

# The router's tag of each group → (its Chinese name, what it holds). Order is the order of the docs page.
TAGS: dict[str, tuple[str, str]] = {
    "operators": ("运营商", "接入的运营商与第三方平台（OperatorInfo）及其数据健康状况。"),
    "stations": ("充电站", "充电站信息（StationInfo）；默认包含已撤销的站，`removed=false` 只看在用的站。"),
    "equipment": ("充电设备", "充电设备信息（EquipmentInfo）及其所属充电站。"),
    "connectors": ("充电接口", "充电接口（ConnectorInfo）及其当前状态：Status、ParkStatus、LockStatus 与状态时间。"),
    "status-history": ("接口状态历史", "每个充电接口上报过的每个状态，最新在前；请按时间或接口过滤以查看更早的记录。"),
    "station-stats": ("充电站统计", "充电站统计信息（StationStatsInfo），含设备与接口分项，最新在前。"),
    "sync-runs": ("数据拉取记录", "平台向运营商的每次拉取（站点全量、状态巡检、统计）：结果、条数与耗时。"),
    "directory-changes": ("目录变更", "拉取发现的充电站、设备、接口字段变化：`Changes` 为字段 → [原值, 新值]。"),
    "rejected-records": ("拒收记录", "运营商发送的、违反规范的记录，及其违反的规则与原因（密钥类字段已脱敏）。"),
    "orders": ("充电订单", "运营商推送的充电订单（最新修订）及其分时明细（ChargeDetails）。"),
    "order-findings": ("订单核查结果", "订单核查发现的问题：金额不一致、价格不符、时间异常等，每条含规则代码。"),
    "policies": ("业务策略", "运营商申报的每个充电接口的每个业务策略版本（电价与服务费），最新在前。"),
    "reconciliations": ("对账记录", "运营商每日发送的对账（check_charge_orders）及平台的核对结果。"),
    "disputes": ("争议订单", "对账后存在争议的订单，未决或已处理，含双方的金额与电量。"),
    "indicators": (
        "监管指标",
        "每个充电接口、充电站、运营商、区与全市的指标（可用率、利用率、状态真实性、推送及时率、价格）："
        "`value` = `numerator` ÷ `denominator`（百分比乘以 100），按日、周、月、季度；"
        "接口层级的 `details` 含各状态时长（秒）："
        "t_free、t_occupied、t_charging、t_out、t_unknown、t_excluded、t_period。",
    ),
    "scorecards": (
        "运营考核评分",
        "北京市运营考核奖励：每个公共充电站每季度的参与资格、各指标值与得分、总分、排名、等级、电量与奖励金额；"
        "`quarter` 写作 2026Q4。季度内实时计算，结束后冻结。",
    ),
    "assessments": (
        "年度考核评分",
        "北京市年度考核（平台可见部分：一致性检测、状态变化推送覆盖率、全年可用率）：每个公共充电站每年的参与资格、"
        "各指标值与得分、总分、排名、等级、额定功率与奖励金额（元/kW，每站有上限）；`year` 写作 2026。",
    ),
    "driver": (
        "车主接口",
        "车主（司机）使用的接口：找站、扫码、查价、开始与停止充电、订单、钱包与通知。"
        "需要车主账号的令牌；开始充电时冻结预付金额，订单确认后按实际金额扣款。",
    ),
}

# Operations the list/detail rule below cannot name: the driver API, by path and method.
SUMMARIES: dict[tuple[str, str], str] = {
    ("/api/indicators/{id}/trace/", "get"): "指标追溯：充电接口当天的状态时间线与相关订单",
    ("/api/driver/stations/", "get"): "查找附近或某区的充电站（含实时状态与当前价格）",
    ("/api/driver/qr/", "post"): "解析扫描的二维码，得到充电接口",
    ("/api/driver/connectors/{operator_id}/{connector_id}/policy/", "get"): "查询充电接口的业务策略与当前价格",
    ("/api/driver/sessions/", "get"): "我的充电会话",
    ("/api/driver/sessions/", "post"): "开始充电（冻结预付金额，经运营商启动）",
    ("/api/driver/sessions/{seq}/", "get"): "查看一次充电会话",
    ("/api/driver/sessions/{seq}/stop/", "post"): "停止充电（运营商确认前显示停止中）",
    ("/api/driver/orders/", "get"): "我的充电订单",
    ("/api/driver/wallet/", "get"): "我的钱包：余额与流水",
    ("/api/driver/notifications/", "get"): "我的通知",
}

DESCRIPTION = """\
北京市充电设施公共服务管理平台的 REST 接口：充电设施目录、状态、统计、订单、对账与数据质量，以及车主充电接口。

**身份认证**：脚本在请求头中携带 `Authorization: Token <令牌>`（令牌由平台管理员发放）；
已登录管理后台的用户直接使用会话。在本页右上方填写令牌即可阅读与试用接口。未携带令牌返回 **401**，无权访问返回 **403**。

**可见范围**：监管人员可见全部数据；运营商客户经理只见本运营商的数据；车主只见自己的会话、订单与钱包。

**分页**：`page`、`page_size`（最多 500）；响应含 `count`、`next`、`previous`、`results`。

**过滤**：参数取值不合法时返回 400，并指明参数名。时间一律为 ISO 8601，带北京时间时区（`+08:00`）。

**字段名**：与互联互通规范（T/CEC 102）一致的字段使用规范的拼写；每个枚举代码旁有其中文含义（`…Label`）。
"""


def chinese_summaries(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: Chinese tag names and descriptions, and a Chinese summary per operation."""
    names = {tag: name for tag, (name, _) in TAGS.items()}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            tags = operation.get("tags") or []
            tag = tags[0] if tags else ""
            summary = SUMMARIES.get((path, method))
            if summary is None and tag in TAGS:
                summary = f"{names[tag]}{'详情' if path.endswith('{id}/') else '列表'}"
            if summary:
                operation["summary"] = summary
            operation["tags"] = [names.get(t, t) for t in tags]
    result.setdefault("info", {})["description"] = DESCRIPTION
    result["tags"] = [{"name": name, "description": text} for name, text in TAGS.values()]
    return result


# The answers every operation may give besides its success, and their bodies: DRF's own (`{"detail"}`), a Refusal's
# (`{"code", "detail"}`, apps.core.api_errors) and a refused parameter or field (`{"<name>": ["<why>"]}`).
ERROR = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "原因"},
        "code": {"type": "string", "description": "拒绝的原因代码（车主接口），如 connector_busy"},
    },
    "required": ["detail"],
}
INVALID = {
    "type": "object",
    "description": "参数或字段名 → 不合法的原因",
    "additionalProperties": {"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]},
}
ERRORS = {
    "400": ("参数不合法（指明参数名）", "Invalid"),
    "401": ("未携带令牌或令牌无效", "Error"),
    "403": ("无权访问", "Error"),
    "404": ("不存在、不在可见范围内，或页码超出范围", "Error"),
    "402": ("余额不足（balance_low）", "Error"),
    "409": ("拒绝执行（code 说明原因，如 connector_busy）", "Error"),
}


def _errors_of(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["401", "403"]
    parameters = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
    if "{" in path or "page" in parameters:  # one object, or a page past the last (DRF's "无效页面")
        codes.append("404")
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append("400")
    if method == "post" and path.startswith("/api/driver/"):
        codes += ["402", "404", "409"]
    return codes


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: each operation documents the errors it may answer (401 and 403 always,
    404 for one object, 400 for parameters or a body, a driver's refusals), so a client can read them and the API's
    schema test can hold every answer to the schema."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("Invalid", INVALID)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code in _errors_of(path, method, operation):
                description, name = ERRORS[code]
                operation["responses"].setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                    },
                )
    return result


class ApiDocsView(SpectacularSwaggerView):
    """The Swagger UI page. The page itself is public — it is the portal's own static shell; the schema it loads
    needs a token or a session, which the page sends (a token typed into its bar is kept in this browser only)."""

    permission_classes = [AllowAny]
    # The schema's own authentications: the page injects the token for the one the schema view accepts.
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    template_name = "api/swagger_ui.html"
    template_name_js = "api/swagger_ui.js"
    title = "API 文档 · 北京市充电设施公共服务管理平台"

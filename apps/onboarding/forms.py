"""The public application form and the operator's own key set: every error names the field and why, in Chinese."""

from __future__ import annotations

from django import forms
from django.db import models

from apps.interconnect.keys import WIRE_NAMES
from apps.operators.models import dialect_fields
from apps.protocol.creditcode import credit_code_problem

from .addresses import endpoint_problem
from .models import Application

# The public pages' labels end in a full-width colon, as Chinese typography has it (Django's zh-hans gives ":").
LABEL_SUFFIX = "："


def _name_every_error(form: forms.Form) -> None:
    """Each error message starts from the field's label (Django's defaults say only "确保该值大于或等于0"), and a
    required field says so to assistive technology too (`aria-required` beside the `required` Django renders)."""
    for field in form.fields.values():
        label = field.label
        if isinstance(field, forms.EmailField):
            invalid = f"{label}不是有效的邮件地址，如 name@example.com"
        elif isinstance(field, forms.URLField):
            invalid = f"{label}不是有效的网址，如 https://example.com/evcs/v1/"
        elif isinstance(field, forms.IntegerField):
            invalid = f"{label}应为整数"
        else:
            invalid = f"{label}格式不正确"
        field.error_messages.update(
            required=f"请选择{label}" if isinstance(field, forms.ChoiceField) else f"请填写{label}",
            invalid=invalid,
            invalid_choice=f"{label}只能从所列选项中选择",
            max_length=f"{label}最多%(limit_value)d个字符（现有%(show_value)d个）",
            min_value=f"{label}不能小于%(limit_value)s",
            max_value=f"{label}不能大于%(limit_value)s",
        )
        if field.required:
            field.widget.attrs["aria-required"] = "true"


def _https_by_default(db_field: models.Field, **kwargs) -> forms.Field | None:
    """An address typed without a scheme is https (what Django 6 assumes; said here, so 5.2 has nothing to warn of)."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class ApplicationForm(forms.ModelForm):
    dialects = forms.MultipleChoiceField(
        label="已知的协议差异", required=False, widget=forms.CheckboxSelectMultiple, choices=dialect_fields,
        help_text="贵方平台已知与 T/CEC 102 不一致之处；不确定可不选，一致性检测会识别",
    )  # fmt: skip

    # The page shows the fields in these groups, as the workbench's change forms do: who applies, whom to call,
    # which platform connects.
    groups = (
        ("单位信息", ("legal_name", "credit_code", "kind", "reg_address")),
        ("联系方式", ("contact_name", "contact_phone", "service_tel", "email")),
        ("平台信息", ("base_url", "station_count", "connector_count", "dialects")),
    )

    class Meta:
        model = Application
        formfield_callback = _https_by_default
        fields = ["legal_name", "credit_code", "kind", "reg_address", "contact_name", "contact_phone", "service_tel",
                  "email", "base_url", "station_count", "connector_count", "dialects"]  # fmt: skip
        help_texts = {
            "legal_name": "与营业执照上的名称一致",
            "credit_code": "18位，运营商ID取其第9–17位",
            "kind": "建设、运营充电设施的选“充电运营商”；只为车主提供查询和充电服务的选“第三方平台”",
            "reg_address": "营业执照上的注册地址，可不填",
            "contact_name": "负责与本平台对接的工作人员",
            "contact_phone": "对接联系人的手机或座机",
            "service_tel": "车主拨打的客服电话，如 400-800-0000",
            "email": "审核结果凭此邮箱和申请编号查询",
            "base_url": "贵方平台的接口基础地址，如 https://example.com/evcs/v1/",
            "station_count": "贵方运营的充电站数量",
            "connector_count": "充电接口（充电枪）的总数",
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", LABEL_SUFFIX)
        super().__init__(*args, **kwargs)
        _name_every_error(self)

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The bound fields in their groups, for the template."""
        return [(title, [self[name] for name in names]) for title, names in self.groups]

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"]
        problem = endpoint_problem(url)
        if problem:
            raise forms.ValidationError(f"平台接口地址{problem}")
        return url

    def clean_credit_code(self) -> str:
        code = self.cleaned_data["credit_code"].strip().upper()
        problem = credit_code_problem(code)
        if problem:
            raise forms.ValidationError(f"统一社会信用代码{problem}")
        return code


class StatusForm(forms.Form):
    reference = forms.CharField(label="申请编号", max_length=20, help_text="提交申请后页面上显示的编号，以 SQ 开头")
    email = forms.EmailField(label="联系邮箱", help_text="申请时填写的联系邮箱")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", LABEL_SUFFIX)
        super().__init__(*args, **kwargs)
        _name_every_error(self)


class OutboundKeysForm(forms.Form):
    """The key set the operator's platform issued to the portal, as its engineers hand it over."""

    endpoint_url = forms.URLField(label="对方接口地址", max_length=200, assume_scheme="https",
                                  help_text="贵方平台的基础地址，如 https://example.com/evcs/v1/")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in WIRE_NAMES:
            self.fields[name] = forms.CharField(label=name, max_length=64, strip=True)
        _name_every_error(self)

    def clean_endpoint_url(self) -> str:
        url = self.cleaned_data["endpoint_url"]
        problem = endpoint_problem(url)
        if problem:
            raise forms.ValidationError(f"对方接口地址{problem}")
        return url

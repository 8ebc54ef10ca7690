"""The public application form and the operator's own key set: every error names the field and why, in Chinese."""

from __future__ import annotations

from django import forms

from apps.interconnect.keys import WIRE_NAMES
from apps.operators.models import dialect_fields
from apps.protocol.creditcode import credit_code_problem

from .addresses import endpoint_problem
from .models import Application


def _required_messages(form: forms.Form) -> None:
    for field in form.fields.values():
        field.error_messages["required"] = f"请填写{field.label}"


class ApplicationForm(forms.ModelForm):
    dialects = forms.MultipleChoiceField(
        label="已知的协议差异", required=False, widget=forms.CheckboxSelectMultiple, choices=dialect_fields,
        help_text="贵方平台已知与 T/CEC 102 不一致之处；不确定可不选，一致性检测会识别",
    )  # fmt: skip

    class Meta:
        model = Application
        fields = ["legal_name", "credit_code", "kind", "contact_name", "contact_phone", "service_tel", "reg_address",
                  "base_url", "station_count", "connector_count", "dialects", "email"]  # fmt: skip
        help_texts = {
            "credit_code": "18位，运营商ID取其第9–17位",
            "base_url": "贵方平台的接口基础地址，如 https://example.com/evcs/v1/",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_url"].assume_scheme = "https"
        _required_messages(self)

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
    reference = forms.CharField(label="申请编号", max_length=20)
    email = forms.EmailField(label="联系邮箱")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _required_messages(self)


class OutboundKeysForm(forms.Form):
    """The key set the operator's platform issued to the portal, as its engineers hand it over."""

    endpoint_url = forms.URLField(label="对方接口地址", max_length=200, assume_scheme="https",
                                  help_text="贵方平台的基础地址，如 https://example.com/evcs/v1/")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in WIRE_NAMES:
            self.fields[name] = forms.CharField(label=name, max_length=64, strip=True)
        _required_messages(self)

    def clean_endpoint_url(self) -> str:
        url = self.cleaned_data["endpoint_url"]
        problem = endpoint_problem(url)
        if problem:
            raise forms.ValidationError(f"对方接口地址{problem}")
        return url

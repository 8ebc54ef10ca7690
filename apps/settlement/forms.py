"""The form a regulator, or the operator's account manager, settles a dispute with."""

from django import forms

from .choices import Resolution


class DisputeResolveForm(forms.Form):
    resolution = forms.ChoiceField(label="处理结果", choices=Resolution.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label="处理说明",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        error_messages={"required": "请填写处理说明：为什么采用这一方的数据（或核销）"},
    )

    def clean_comment(self) -> str:
        comment = self.cleaned_data["comment"].strip()
        if not comment:
            raise forms.ValidationError("请填写处理说明：为什么采用这一方的数据（或核销）")
        return comment


class StatementPayForm(forms.Form):
    payment_reference = forms.CharField(
        label="付款凭证号", max_length=64, error_messages={"required": "请填写付款凭证号（银行流水号）"}
    )

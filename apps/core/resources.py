"""Shared base for import/export resources: Chinese column headers, model validation, the scope rule."""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets

from .roles import scope_of

BUSINESS_TIME = "%Y-%m-%d %H:%M:%S"  # the spec's `yyyy-MM-dd HH:mm:ss`
BUSINESS_DATE = "%Y-%m-%d"


class SpecResource(resources.ModelResource):
    """Columns are headed by each field's Chinese verbose name; rows are validated with the model's own rules.

    Import ids are natural keys (declared per resource), so re-importing a file updates rows in place.
    """

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field = super().field_from_django_field(field_name, django_field, readonly)
        field.column_name = str(django_field.verbose_name)
        if django_field.get_internal_type() == "DateTimeField":
            field.widget = widgets.DateTimeWidget(format=BUSINESS_TIME)
        elif django_field.get_internal_type() == "DateField":
            field.widget = widgets.DateWidget(format=BUSINESS_DATE)
        return field

    def get_instance(self, instance_loader, row):
        # A key that cannot be resolved (unknown OperatorID, say) means "no existing row"; the same field then
        # fails in import_instance, where import-export reports it against the row and column.
        try:
            return super().get_instance(instance_loader, row)
        except (ValueError, ValidationError):
            return None

    def before_import(self, dataset, **kwargs):
        self._import_user = kwargs.get("user")
        super().before_import(dataset, **kwargs)

    def before_save_instance(self, instance, row, **kwargs):
        # Import honours the same scope rule as every other view of the data.
        user = getattr(self, "_import_user", None)
        # (The import permission itself is import-export's check, through the same has_perm.)
        if user is not None:
            owner = self.instance_operator_id(instance)
            if not scope_of(user).covers(owner):
                raise ValidationError(f"无权导入运营商 {owner} 的数据")
        super().before_save_instance(instance, row, **kwargs)

    def instance_operator_id(self, instance) -> str | None:
        return getattr(instance, "operator_id", None)

    class Meta:
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True


class ForeignKeyWidgetWithReason(widgets.ForeignKeyWidget):
    """A foreign key that names what was not found, instead of the ORM's DoesNotExist text."""

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist as exc:
            raise ValueError(f"不存在{self.model._meta.verbose_name} {self.field}={value}") from exc


def masked_field(model, attribute: str, mask: Callable[[str], str]) -> fields.Field:
    """A column of personal data that leaves the portal masked and is never read back: import skips it (readonly),
    so re-importing an export cannot overwrite the real value with its masked form (`张三丰` → `张**`)."""
    return fields.Field(
        attribute=attribute,
        column_name=str(model._meta.get_field(attribute).verbose_name),
        readonly=True,
        dehydrate_method=lambda instance: mask(getattr(instance, attribute) or ""),
    )


def operator_field(attribute: str = "operator") -> fields.Field:
    # Resolved through the registry: core sits below the operators app and must not import it.
    operator_model = django_apps.get_model("operators", "Operator")
    return fields.Field(
        attribute=attribute, column_name="运营商ID", widget=ForeignKeyWidgetWithReason(operator_model, "operator_id")
    )


class OperatorScopedKeyWidget(ForeignKeyWidgetWithReason):
    """Resolves an operator-defined ID (StationID, EquipmentID, ConnectorID) within the row's operator."""

    def __init__(self, model, field, operator_column: str = "运营商ID", **kwargs):
        self.operator_column = operator_column
        super().__init__(model, field, **kwargs)

    def get_queryset(self, value, row, *args, **kwargs):
        return self.model.objects.filter(operator_id=(row or {}).get(self.operator_column))

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ValueError as exc:
            operator = (row or {}).get(self.operator_column)
            raise ValueError(f"运营商 {operator} 下{exc}") from exc

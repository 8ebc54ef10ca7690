"""Validators for identifiers and coordinates as T/CEC 102 defines them."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator

# 组织机构代码 without the hyphen: 8 body characters and a check character, digits and capital letters.
operator_id_validator = RegexValidator(r"^[0-9A-Z]{9}$", "运营商ID必须是9位数字或大写字母（组织机构代码，去掉“-”）")
country_code_validator = RegexValidator(r"^[A-Z]{2}$", "国家代码必须是2位大写字母（如 CN）")
area_code_validator = RegexValidator(r"^\d{6}$", "省市辖区编码必须是6位 GB/T 2260 行政区划代码")
hhmmss_validator = RegexValidator(r"^([01]\d|2[0-3])[0-5]\d[0-5]\d$", "时段起始时间必须是 HHmmss（如 083000）")
serial_number_validator = RegexValidator(r"^[0-9A-Z]{9}.{18}$", "流水号必须是27位：9位运营商ID+18位唯一编号")

longitude_validators = [MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))]
latitude_validators = [MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))]

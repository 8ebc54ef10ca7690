"""Turn an operator's recorded deviations into the codec's Dialect."""

from apps.operators.models import Operator
from apps.protocol import Dialect


def operator_dialect(operator: Operator) -> Dialect:
    return Dialect(
        lowercase_sig=operator.dialect_lowercase_sig,
        bare_token=operator.dialect_bare_token,
        millisecond_timestamp=operator.dialect_millisecond_timestamp,
        service_spelling=operator.dialect_service_spelling,
        no_v_base_url=operator.dialect_no_v_base_url,
        lowercase_keys=operator.dialect_lowercase_keys,
        lower_camel_fields=operator.dialect_lower_camel_fields,
    )

"""Personal information: validation (ID numbers, phones), encryption at rest, blind indexes, masking.

ID numbers, phones, bank data and health data are sensitive under PIPL /
GB/T 35273: store them with ``Keyring.encrypt`` (context = field + tenant), look them up through
``Keyring.blind_index`` of the canonical value, and show them only through the ``mask_*`` helpers.
"""

from core.pii.crypto import DecryptError, Keyring, generate_key, is_token
from core.pii.idcard import (
    IdNumberError,
    PiiValueError,
    check_char,
    has_valid_checksum,
    id_area_code,
    id_birth_date,
    id_sex,
    is_valid_id_number,
    normalize_id_number,
)
from core.pii.masking import DEFAULT_SENSITIVE_KEYS, REDACTED, mask_id_number, mask_name, mask_phone, redact
from core.pii.phone import PhoneError, normalize_phone, phone_kind

__all__ = [
    "DEFAULT_SENSITIVE_KEYS",
    "REDACTED",
    "DecryptError",
    "IdNumberError",
    "Keyring",
    "PhoneError",
    "PiiValueError",
    "check_char",
    "generate_key",
    "has_valid_checksum",
    "id_area_code",
    "id_birth_date",
    "id_sex",
    "is_token",
    "is_valid_id_number",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "normalize_id_number",
    "normalize_phone",
    "phone_kind",
    "redact",
]

"""Model fields whose values are encrypted at rest. Python code sees plain values; the database sees Fernet."""

from django.db import models

from .encryption import decrypt_bytes, encrypt_bytes


class EncryptedFieldMixin:
    """Marks a field as secret: the audit log and serializers never show its value."""

    is_secret = True


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt_bytes(value.encode()).decode()

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt_bytes(value.encode()).decode()


class EncryptedBinaryField(EncryptedFieldMixin, models.BinaryField):
    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt_bytes(bytes(value))

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is not None and not prepared:
            value = encrypt_bytes(bytes(value))
        return super().get_db_prep_value(value, connection, prepared)


def is_secret_field(field) -> bool:
    return getattr(field, "is_secret", False)

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from portal.encryption import rotate_bytes
from portal.fields import EncryptedBinaryField, is_secret_field


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of FIELD_ENCRYPTION_KEYS, so older keys can be "
        "removed from the setting afterwards."
    )

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if is_secret_field(f)]
            for field in fields:
                total += self._rotate_column(model, field)
        self.stdout.write(f"{total} stored secret(s) re-encrypted with the current key.")

    @transaction.atomic
    def _rotate_column(self, model, field) -> int:
        # Work on the raw ciphertext: decrypting to plain text in Python is not needed to rotate.
        table, column = model._meta.db_table, field.column
        quote = connection.ops.quote_name
        rotated = 0
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote(model._meta.pk.column)}, {quote(column)} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(column)} IS NOT NULL"
            )
            rows = cursor.fetchall()
            for pk, value in rows:
                if not value:
                    continue
                binary = isinstance(field, EncryptedBinaryField)
                token = bytes(value) if binary else value.encode()
                new = rotate_bytes(token)
                cursor.execute(
                    f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(model._meta.pk.column)} = %s",  # noqa: S608
                    [new if binary else new.decode(), pk],
                )
                rotated += 1
        return rotated

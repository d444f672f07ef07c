"""Encryption of secrets at rest (Fernet, with MultiFernet so keys can be rotated).

``FIELD_ENCRYPTION_KEYS`` lists Fernet keys: the first encrypts, every key decrypts. To rotate, put a new key
first, run ``manage.py rotate_field_encryption``, then drop the old key.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=1)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be url-safe base64 Fernet keys "
            "(make one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from exc


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_bytes(plain: bytes) -> bytes:
    return cipher().encrypt(plain)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return cipher().decrypt(token)
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS") from exc


def rotate_bytes(token: bytes) -> bytes:
    return cipher().rotate(token)

"""Certificate settings with their defaults (override in Django settings)."""

from django.conf import settings

from .crypto import DEFAULT_MAX_IMPORT_SIZE


def max_upload_size() -> int:
    """Largest certificate file accepted for import, in bytes."""
    return getattr(settings, "CERTIFICATE_MAX_UPLOAD_BYTES", DEFAULT_MAX_IMPORT_SIZE)


def expiry_threshold_days() -> int:
    """Days before expiry from which a certificate is flagged and alerted."""
    return getattr(settings, "CERTIFICATE_EXPIRY_WARNING_DAYS", 30)

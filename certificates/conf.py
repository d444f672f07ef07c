"""Certificate tunables (declared in portal/settings.py, documented in docs/install.md)."""

from django.conf import settings


def max_upload_size() -> int:
    """Largest certificate file accepted for import, in bytes."""
    return settings.CERTIFICATE_MAX_UPLOAD_BYTES


def expiry_threshold_days() -> int:
    """Days before expiry from which a certificate is flagged and alerted."""
    return settings.CERTIFICATE_EXPIRY_WARNING_DAYS


def max_kdf_iterations() -> int:
    """Most key-derivation iterations a PKCS#12 file may ask for (MAC and each encrypted part)."""
    return settings.CERTIFICATE_PKCS12_MAX_ITERATIONS

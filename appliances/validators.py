import ipaddress
import re

from cryptography import x509
from django.core.exceptions import ValidationError

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$")

MAX_CA_BUNDLE_BYTES = 256 * 1024


def validate_hostname_or_ip(value: str) -> None:
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    if not _HOSTNAME.match(value) or value.replace(".", "").isdigit():
        raise ValidationError(f"“{value}” is neither a host name nor an IP address.")


_OAUTH_CREDENTIAL = re.compile(r"^[\x20-\x7e]*$")


def validate_oauth_credential(value: str) -> None:
    """OAuth client ids and secrets are printable ASCII (RFC 6749 appendix A, VSCHAR); the appliance API takes them
    as HTTP basic authentication, where anything else cannot be sent (it failed deep in the HTTP client, a 500)."""
    if value and not _OAUTH_CREDENTIAL.match(value):
        raise ValidationError("Use printable ASCII characters only (letters, digits, punctuation, spaces).")


def validate_ca_bundle(value: str) -> None:
    if not value:
        return
    if len(value.encode()) > MAX_CA_BUNDLE_BYTES:
        raise ValidationError("The CA bundle is larger than 256 KiB.")
    try:
        certificates = x509.load_pem_x509_certificates(value.encode())
    except ValueError as exc:
        raise ValidationError("The CA bundle is not PEM certificates (-----BEGIN CERTIFICATE-----).") from exc
    if not certificates:
        raise ValidationError("The CA bundle holds no certificate.")

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

"""Plumbing shared by the certificate services: reaching an appliance's API, turning errors into field errors."""

from django.conf import settings
from django.core.exceptions import ValidationError

from appliances.drivers import ApplianceAddress, ApplianceClient, ApplianceError, Credentials, Timeouts

from ..crypto import DEFAULT_MAX_IMPORT_SIZE, CertificateError

# Errors about the passphrase belong under the passphrase field; everything else is about the file.
_PASSPHRASE_CODES = {"passphrase_required", "wrong_passphrase"}


def max_upload_size() -> int:
    return getattr(settings, "CERTIFICATE_MAX_UPLOAD_BYTES", DEFAULT_MAX_IMPORT_SIZE)


def expiry_threshold_days() -> int:
    return getattr(settings, "CERTIFICATE_EXPIRY_WARNING_DAYS", 30)


def validation_error(error: CertificateError, *, file_field: str = "file",
                     passphrase_field: str = "passphrase") -> ValidationError:
    field = passphrase_field if error.code in _PASSPHRASE_CODES else file_field
    return ValidationError({field: ValidationError(error.message, code=error.code)})


def appliance_client(appliance) -> ApplianceClient:
    """A driver client for an inventory appliance (TLS verified through its CA bundle or pin)."""
    if not appliance.client_id or not appliance.client_secret:
        raise ValidationError(f"{appliance} has no API credentials; add them to reach its certificates.")
    return ApplianceClient(
        ApplianceAddress(appliance.management_host, appliance.management_port),
        Credentials(appliance.client_id, appliance.client_secret),
        appliance.trust,
        timeouts=Timeouts(connect=float(appliance.probe_timeout), total=max(30.0, appliance.probe_timeout * 3)),
    )


def appliance_error(appliance, error: ApplianceError, doing: str) -> ValidationError:
    """An appliance failure as an operator-readable form error (never a 500)."""
    return ValidationError(f"Could not {doing} on {appliance}: {error}", code="appliance_error")

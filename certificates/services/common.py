"""Plumbing shared by the certificate services: reaching an appliance's API, turning errors into field errors."""

from django.core.exceptions import ValidationError

from appliances.drivers import ApplianceError

from ..crypto import CertificateError

# Errors about the passphrase belong under the passphrase field; everything else is about the file.
_PASSPHRASE_CODES = {"passphrase_required", "wrong_passphrase"}


def validation_error(error: CertificateError) -> ValidationError:
    """A crypto error as a field error: passphrase problems on ``passphrase``, the rest on ``file``."""
    field = "passphrase" if error.code in _PASSPHRASE_CODES else "file"
    return ValidationError({field: ValidationError(error.message, code=error.code)})


def appliance_error(appliance, error: ApplianceError, doing: str) -> ValidationError:
    """An appliance failure as an operator-readable form error (never a 500)."""
    return ValidationError(f"Could not {doing} on {appliance}: {error}", code="appliance_error")

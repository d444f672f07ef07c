"""Validators shared by the forms, the serializers and the models (one rule, one place)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def validate_email_lines(value: str) -> None:
    """One email address per line (blank lines allowed): alert recipients, in the UI and over REST alike."""
    errors = []
    for line in (value or "").splitlines():
        address = line.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            errors.append(ValidationError("“%(address)s” is not an email address.", params={"address": address}))
    if errors:
        raise ValidationError(errors)

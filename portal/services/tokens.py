"""API tokens: created with the secret shown once, revoked, never stored in plain text."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import ApiToken, AuditAction
from ..models.tokens import hash_token_secret, new_token_material
from .audit import audit_record


@transaction.atomic
def api_token_create(*, actor, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``actor``; returns the row and the full token, which is never retrievable again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    key, secret, full = new_token_material()
    token = ApiToken.objects.create(user=actor, name=name, key=key, secret_hash=hash_token_secret(secret), expires_at=expires_at)
    audit_record(
        actor=actor, organization=None, action=AuditAction.CREATE, obj=token, summary=f"API token '{name}' created"
    )
    return token, full


@transaction.atomic
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, organization=None, action=AuditAction.ACTION, verb="revoke", obj=token,
            summary=f"API token '{token.name}' revoked",
        )
    return token

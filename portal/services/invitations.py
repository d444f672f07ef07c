"""Invitations: an admin invites an email address, the person with the link accepts.

No service here looks a user up by name or email: the platform's user directory is not an organisation admin's
to browse (adding "any user by username" showed their email and told existing names from unknown ones).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from ..models import AuditAction, Invitation, Membership, Role
from ..models.invitations import hash_invitation_secret, new_invitation_secret
from ..permissions import require_role
from .audit import audit_record
from .organizations import MEMBERSHIP_ROLES

logger = logging.getLogger(__name__)

INVALID_LINK = "This invitation link is not valid: it was used, revoked or has expired. Ask for a new one."


def _send_invitation(*, invitation: Invitation, accept_url: str) -> None:
    # After commit and never fatal: the admin also sees the link once, to pass on another way.
    try:
        send_mail(
            subject=f"Invitation to {invitation.organization.name} on the Failover Portal",
            message=(
                f"You are invited to join {invitation.organization.name} as {invitation.get_role_display().lower()}.\n\n"
                f"Accept (sign in or create an account): {accept_url}\n\n"
                f"The link works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[invitation.email],
        )
    except Exception:  # noqa: BLE001 - a mail relay failure must not undo the invitation
        logger.warning("Could not send the invitation email for invitation %s", invitation.pk, exc_info=True)


@transaction.atomic
def invitation_create(*, actor, organization, email: str, role: str = Role.VIEWER,
                      accept_url_for) -> tuple[Invitation, str]:
    """Invite ``email``; returns the invitation and its accept URL (``accept_url_for(secret)``), shown once.

    A new invitation of the same address to the same organisation replaces a pending one.
    """
    require_role(actor, organization, MEMBERSHIP_ROLES["create"])
    secret = new_invitation_secret()
    invitation = Invitation(
        organization=organization, email=email.strip().lower(), role=role, secret_hash=hash_invitation_secret(secret),
        invited_by=actor, expires_at=timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS),
    )
    invitation.full_clean(exclude=["secret_hash"])
    Invitation.objects.pending().filter(organization=organization, email=invitation.email).update(
        revoked_at=timezone.now()
    )
    invitation.save()
    accept_url = accept_url_for(secret)
    audit_record(actor=actor, organization=organization, action=AuditAction.CREATE, obj=invitation,
                 changes={"email": invitation.email, "role": role},
                 summary=f"Invited {invitation.email} as {invitation.get_role_display().lower()}")
    transaction.on_commit(lambda: _send_invitation(invitation=invitation, accept_url=accept_url))
    return invitation, accept_url


@transaction.atomic
def invitation_revoke(*, actor, invitation: Invitation) -> Invitation:
    require_role(actor, invitation.organization_id, MEMBERSHIP_ROLES["create"])
    if invitation.status == "pending":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(actor=actor, organization=invitation.organization, action=AuditAction.ACTION, verb="revoke",
                     obj=invitation, summary=f"Invitation of {invitation.email} revoked")
    return invitation


def invitation_for_secret(secret: str) -> Invitation | None:
    """The pending invitation the link's secret belongs to, or None (used, revoked, expired or made up alike)."""
    if not secret or len(secret) > 100:
        return None
    return (Invitation.objects.pending().select_related("organization")
            .filter(secret_hash=hash_invitation_secret(secret)).first())


@transaction.atomic
def invitation_accept(*, user, secret: str) -> Membership:
    """``user`` (signed in, or just created) joins the organisation. Single use: the row is locked, so two tabs
    accepting at once cannot both succeed. A member already keeps their role (an invitation never demotes)."""
    invitation = invitation_for_secret(secret)
    if invitation is not None:
        invitation = Invitation.objects.pending().select_for_update().filter(pk=invitation.pk).first()
    if invitation is None:
        raise ValidationError(INVALID_LINK)
    membership, created = Membership.objects.get_or_create(
        organization_id=invitation.organization_id, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(actor=user, organization=invitation.organization, action=AuditAction.ACTION, verb="accept",
                 obj=invitation,
                 summary=(f"{user.username} joined as {membership.get_role_display().lower()}" if created
                          else f"{user.username} was already a member"))
    return membership

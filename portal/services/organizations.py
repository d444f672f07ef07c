"""Organisations and their members."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from ..models import AuditAction, Membership, Organization, Role
from ..permissions import require_platform_operator, require_role
from .audit import audit_create, audit_record
from .common import model_delete

#: The role each membership change needs in the organisation: checked here; the pages and the API read it.
#: "create" is inviting someone (members join by invitation only: portal/services/invitations.py).
MEMBERSHIP_ROLES = {"create": Role.ADMIN, "update": Role.ADMIN, "delete": Role.ADMIN}


@transaction.atomic
def organization_create(*, actor, name: str, slug: str = "", alert_recipients: str = "") -> Organization:
    require_platform_operator(actor, "create organisations")
    organization = Organization(name=name, slug=slug or slugify(name), alert_recipients=alert_recipients)
    organization.full_clean()
    organization.save()
    audit_create(actor=actor, instance=organization, organization=organization)
    return organization


def _ensure_an_admin_remains(membership: Membership, new_role: str | None) -> None:
    """Call inside the transaction that makes the change. The organisation's row is locked first, so two admins
    demoting (or removing) each other at the same moment run one after the other and the second sees the first's
    change: without it each saw the other still admin and both changes went through, leaving no admin."""
    Organization.objects.select_for_update().filter(pk=membership.organization_id).first()
    current_role = Membership.objects.filter(pk=membership.pk).values_list("role", flat=True).first()
    if current_role != Role.ADMIN or new_role == Role.ADMIN:
        return
    others = Membership.objects.filter(organization_id=membership.organization_id, role=Role.ADMIN).exclude(
        pk=membership.pk
    )
    if not others.exists():
        raise ValidationError("An organisation needs at least one admin: promote someone else first.")


@transaction.atomic
def membership_change_role(*, actor, membership: Membership, role: str) -> Membership:
    require_role(actor, membership.organization_id, MEMBERSHIP_ROLES["update"])
    if role == membership.role:
        return membership
    _ensure_an_admin_remains(membership, role)
    old = membership.role
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        organization=membership.organization,
        action=AuditAction.UPDATE,
        obj=membership,
        changes={"role": [old, role]},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    require_role(actor, membership.organization_id, MEMBERSHIP_ROLES["delete"])
    _ensure_an_admin_remains(membership, None)
    model_delete(actor=actor, instance=membership)

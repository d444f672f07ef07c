"""The tenancy chokepoint.

Every read of tenant-owned data goes through ``Model.objects.for_user(user)``: platform operators see every
organisation, members see the organisations they belong to (optionally only those where their role reaches a
minimum), everybody else sees nothing. Views, API viewsets, selectors and form choices all call it, so the rule
lives in exactly one place (NetBox's ``RestrictedQuerySet.restrict()`` plays the same part).
"""

from django.db import models

from .roles import Role


class TenantQuerySet(models.QuerySet):
    def for_user(self, user, role: str = Role.VIEWER):
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.sees_all_organizations:
            return self
        # Imported here: tenancy's models are built on this module's queryset (a module-level import would be
        # circular).
        from .tenancy import Membership

        organization_ids = Membership.objects.filter(user=user, role__in=Role.at_least(role)).values(
            "organization_id"
        )
        return self.filter(**{f"{self.model.tenant_lookup}__in": organization_ids})

    def in_organization(self, organization):
        """Narrow to the organisation chosen in the switcher (None means all the caller may see)."""
        if organization is None:
            return self
        return self.filter(**{self.model.tenant_lookup: organization})


class TenantModel(models.Model):
    """Base for every row an organisation owns: child rows carry the organisation too (see DESIGN.md §4)."""

    tenant_lookup = "organization"

    organization = models.ForeignKey("portal.Organization", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

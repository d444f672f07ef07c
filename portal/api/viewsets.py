"""Base viewsets. ``get_queryset`` goes through the chokepoint; writes go through services."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from rest_framework import mixins, viewsets
from rest_framework.exceptions import PermissionDenied

from ..models import Role
from ..permissions import require_role
from ..services.common import model_create, model_delete, model_update
from .permissions import HasOrganizationRole, safe_default_role


class TenantViewSetMixin:
    permission_classes = [HasOrganizationRole]
    # Role per action; anything not listed needs viewer for reads and admin for writes.
    action_roles: dict[str, str] = {}
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()

    def role_for_action(self) -> str:
        return self.action_roles.get(self.action, safe_default_role(self.request.method))

    def get_queryset(self):
        queryset = self.queryset.model.objects.for_user(self.request.user)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset.order_by(*self.queryset.query.order_by or self.queryset.model._meta.ordering or ["pk"])

    def require_role_on(self, organization) -> None:
        try:
            require_role(self.request.user, organization, self.role_for_action())
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc


def crud_action_roles(roles: dict[str, str]) -> dict[str, str]:
    """A service's role table ({"create", "update", "delete"}) as a viewset's ``action_roles``."""
    return {"create": roles["create"], "update": roles["update"], "partial_update": roles["update"],
            "destroy": roles["delete"]}


class TenantModelViewSet(TenantViewSetMixin, viewsets.ModelViewSet):
    """CRUD through the generic services; apps with richer rules override the three ``perform_*``."""

    updatable_fields: list[str] | None = None

    def perform_create(self, serializer):
        self.require_role_on(serializer.validated_data["organization"])
        serializer.instance = model_create(
            actor=self.request.user, model=self.queryset.model, data=dict(serializer.validated_data)
        )

    def perform_update(self, serializer):
        fields = self.updatable_fields or list(serializer.validated_data)
        serializer.instance, _ = model_update(
            actor=self.request.user, instance=serializer.instance, data=serializer.validated_data, fields=fields
        )

    def perform_destroy(self, instance):
        model_delete(actor=self.request.user, instance=instance)


class TenantReadOnlyViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


__all__ = ["Role", "TenantModelViewSet", "TenantReadOnlyViewSet", "crud_action_roles", "mixins"]

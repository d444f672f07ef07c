from rest_framework import serializers

from ..models import Role


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A related field whose choices are what the caller may use (through the chokepoint): another
    organisation's id is 'does not exist', exactly like a row that does not exist."""

    def __init__(self, *args, role: str = Role.ADMIN, **kwargs):
        self.role = role
        super().__init__(*args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        return queryset.for_user(request.user if request else None, role=self.role)

import django_filters

from .models import AuditAction, AuditEvent, Membership, Organization, Role


class OrganizationScopedFilterSet(django_filters.FilterSet):
    """Adds an organisation filter whose choices are the caller's organisations."""

    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.none(), label="Organisation", empty_label="All organisations"
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        self.filters["organization"].queryset = Organization.objects.for_user(user)
        self.form.fields["organization"].queryset = Organization.objects.for_user(user)


class MembershipFilterSet(OrganizationScopedFilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    q = django_filters.CharFilter(field_name="user__username", lookup_expr="icontains", label="Search")

    class Meta:
        model = Membership
        fields = ["organization", "role"]


class AuditEventFilterSet(OrganizationScopedFilterSet):
    action = django_filters.ChoiceFilter(choices=AuditAction.choices)
    actor = django_filters.CharFilter(field_name="actor_name", lookup_expr="icontains")
    object_type = django_filters.CharFilter(lookup_expr="icontains")
    since = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = AuditEvent
        fields = ["organization", "action", "actor", "object_type", "since"]

    def search(self, queryset, name, value):
        return queryset.filter(object_repr__icontains=value) | queryset.filter(summary__icontains=value)

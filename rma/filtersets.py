import django_filters

from portal.filtersets import OrganizationScopedFilterSet

from .models import RmaCase, RmaStatus


class RmaFilterSet(OrganizationScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=RmaStatus.choices)
    open = django_filters.BooleanFilter(method="only_open", label="Open cases only")

    class Meta:
        model = RmaCase
        fields = ["organization", "status", "open"]

    def only_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(status=RmaStatus.CLOSED) if value else queryset.filter(status=RmaStatus.CLOSED)

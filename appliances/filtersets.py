import django_filters
from django import forms
from django.db.models import Q

from portal.filtersets import OrganizationScopedFilterSet

from .models import Appliance, ApplianceAddress, BackupStatus, ConfigurationBackup, FailoverRole
from .models.appliance import SEARCHED_COLUMNS

ANY_YES_NO = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])


class ApplianceFilterSet(OrganizationScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    role = django_filters.ChoiceFilter(field_name="status_role", choices=FailoverRole.choices, label="Current role")
    reachable = django_filters.BooleanFilter(field_name="status_reachable", label="Reachable", widget=ANY_YES_NO)
    product_version = django_filters.CharFilter(lookup_expr="iexact")
    model = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Appliance
        fields = ["q", "organization", "role", "reachable", "product_version", "model"]

    def search(self, queryset, name, value):
        """Substring of the name, host names, serial or appliance id (trigram GIN indexes serve each,
        ``appliances/models/appliance.py``), or the start of one of its addresses. The address matches are
        looked up first, so the appliance query stays one table: an OR across a join needs DISTINCT and scans."""
        by_address = ApplianceAddress.objects.filter(address__startswith=value).order_by().values_list(
            "appliance_id", flat=True)
        matches = Q(pk__in=list(by_address[:SEARCH_ADDRESS_LIMIT]))
        for column in SEARCHED_COLUMNS:
            matches |= Q(**{f"{column}__icontains": value})
        return queryset.filter(matches)


#: Appliances an address prefix may match in a search (a list page shows a hundred at most).
SEARCH_ADDRESS_LIMIT = 1000


class BackupFilterSet(OrganizationScopedFilterSet):
    # An id box, not a drop-down: a fleet has thousands of appliances (the appliance page links here with its id).
    appliance = django_filters.ModelChoiceFilter(
        queryset=Appliance.objects.none(), widget=forms.NumberInput, label="Appliance id"
    )
    status = django_filters.ChoiceFilter(choices=BackupStatus.choices)

    class Meta:
        model = ConfigurationBackup
        fields = ["organization", "appliance", "status"]


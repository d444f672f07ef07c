import django_filters
from django import forms
from django.db.models import Q

from portal.filtersets import OrganizationScopedFilterSet

from .models import Appliance, BackupStatus, ConfigurationBackup, FailoverRole

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
        return queryset.filter(
            Q(name__icontains=value)
            | Q(management_host__icontains=value)
            | Q(site_hostname__icontains=value)
            | Q(serial_number__icontains=value)
            | Q(appliance_guid__icontains=value)
            | Q(addresses__address__startswith=value)
        ).distinct()


class BackupFilterSet(OrganizationScopedFilterSet):
    # An id box, not a drop-down: a fleet has thousands of appliances (the appliance page links here with its id).
    appliance = django_filters.ModelChoiceFilter(
        queryset=Appliance.objects.none(), widget=forms.NumberInput, label="Appliance id"
    )
    status = django_filters.ChoiceFilter(choices=BackupStatus.choices)

    class Meta:
        model = ConfigurationBackup
        fields = ["organization", "appliance", "status"]


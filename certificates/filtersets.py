"""Filters shared by the certificate list page and the REST list."""

from datetime import timedelta

import django_filters
from django.db.models import Q
from django.utils import timezone

from appliances.models import Appliance
from portal.filtersets import OrganizationScopedFilterSet

from .models import Certificate

EXPIRES_WITHIN_MAX_DAYS = 36500


class CertificateFilterSet(OrganizationScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    appliance = django_filters.ModelChoiceFilter(queryset=Appliance.objects.none())
    # Past 100 years "now + days" leaves the calendar (OverflowError): bounded like every filter, tighter.
    expires_within = django_filters.NumberFilter(
        method="filter_expires_within", label="Expires within (days)", min_value=0, max_value=EXPIRES_WITHIN_MAX_DAYS
    )
    is_default = django_filters.BooleanFilter()
    on_appliance = django_filters.BooleanFilter()
    is_self_signed = django_filters.BooleanFilter()

    class Meta:
        model = Certificate
        fields = ["organization", "appliance", "is_default", "on_appliance", "is_self_signed"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        appliances = Appliance.objects.for_user(getattr(request, "user", None))
        self.filters["appliance"].queryset = appliances
        self.form.fields["appliance"].queryset = appliances

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(
            Q(friendly_name__icontains=value) | Q(common_name__icontains=value) | Q(subject__icontains=value)
            | Q(issuer__icontains=value) | Q(fingerprint_sha256__startswith=value.replace(":", "").lower())
            | Q(appliance__name__icontains=value)
        )

    def filter_expires_within(self, queryset, name, value):
        return queryset.filter(not_after__lte=timezone.now() + timedelta(days=float(value)))

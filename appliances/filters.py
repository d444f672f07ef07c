"""Filtersets of the configuration backup and RMA lists, shared by the UI lists and the REST endpoints."""

import django_filters
from django import forms

from portal.filtersets import OrganizationScopedFilterSet

from .models import Appliance, BackupStatus, ConfigurationBackup, RmaCase, RmaStatus


class BackupFilterSet(OrganizationScopedFilterSet):
    # An id box, not a drop-down: a fleet has thousands of appliances (the appliance page links here with its id).
    appliance = django_filters.ModelChoiceFilter(
        queryset=Appliance.objects.none(), widget=forms.NumberInput, label="Appliance id"
    )
    status = django_filters.ChoiceFilter(choices=BackupStatus.choices)

    class Meta:
        model = ConfigurationBackup
        fields = ["organization", "appliance", "status"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        appliances = Appliance.objects.for_user(getattr(request, "user", None))
        self.filters["appliance"].queryset = appliances
        self.form.fields["appliance"].queryset = appliances


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

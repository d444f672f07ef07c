"""Filtersets shared by the UI lists and the REST endpoints of pairs, operations and syncs."""

import django_filters
from django.db.models import Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from appliances.models import Appliance
from portal.alerts import alert_kind_choices
from portal.filtersets import OrganizationScopedFilterSet, TenantScopedFilterSet
from portal.models import Alert, AlertStatus, alert_status_filter

from .maintenance_selectors import windows_open
from .models import (
    Evacuation,
    EvacuationDirection,
    EvacuationStatus,
    MaintenanceWindow,
    NetworkMethod,
    Operation,
    OperationKind,
    OperationStatus,
    Pair,
    PairState,
    SyncRecord,
    SyncResult,
)


class PairFilterSet(OrganizationScopedFilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    state = django_filters.ChoiceFilter(choices=PairState.choices)
    network_method = django_filters.ChoiceFilter(choices=NetworkMethod.choices)
    established = django_filters.BooleanFilter(method="filter_established", label="Established")

    class Meta:
        model = Pair
        fields = ["q", "organization", "state", "network_method", "established"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(site_hostname__icontains=value) | Q(primary__name__icontains=value) | Q(backup__name__icontains=value)
        )

    def filter_established(self, queryset, name, value):
        current = Q(established_at__isnull=False, broken_at__isnull=True)
        return queryset.filter(current) if value else queryset.exclude(current)


class _PairScoped(OrganizationScopedFilterSet):
    pair = django_filters.ModelChoiceFilter(queryset=Pair.objects.none())

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        pairs = Pair.objects.for_user(getattr(request, "user", None))
        self.filters["pair"].queryset = pairs
        self.form.fields["pair"].queryset = pairs


class _PairAndApplianceScoped(_PairScoped):
    appliance = django_filters.ModelChoiceFilter(queryset=Appliance.objects.none())

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        appliances = Appliance.objects.for_user(getattr(request, "user", None))
        self.filters["appliance"].queryset = appliances
        self.form.fields["appliance"].queryset = appliances


class OperationFilterSet(_PairAndApplianceScoped):
    kind = django_filters.ChoiceFilter(choices=OperationKind.choices)
    status = django_filters.ChoiceFilter(choices=OperationStatus.choices)

    class Meta:
        model = Operation
        fields = ["organization", "pair", "kind", "status"]


class MaintenanceWindowFilterSet(_PairAndApplianceScoped):
    """A window's pair or appliance, and whether it is open now."""

    open = django_filters.BooleanFilter(method="filter_open", label="Open now")

    class Meta:
        model = MaintenanceWindow
        fields = ["organization", "pair", "appliance", "open"]

    def filter_open(self, queryset, name, value):
        current = Q(pk__in=windows_open().values("pk"))
        return queryset.filter(current) if value else queryset.exclude(current)


class EvacuationFilterSet(OrganizationScopedFilterSet):
    status = django_filters.ChoiceFilter(choices=EvacuationStatus.choices)
    direction = django_filters.ChoiceFilter(choices=EvacuationDirection.choices)

    class Meta:
        model = Evacuation
        fields = ["organization", "location", "direction", "status"]


class SyncRecordFilterSet(_PairScoped):
    result = django_filters.ChoiceFilter(choices=SyncResult.choices)
    since = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")

    class Meta:
        model = SyncRecord
        fields = ["organization", "pair", "result", "trigger", "since"]


@extend_schema_field(OpenApiTypes.INT)
class _LinkedObjectFilter(django_filters.ModelChoiceFilter):
    """By id, like a foreign key's filter: the alert's links are generic, so the schema is told the type."""


class AlertPageFilterSet(TenantScopedFilterSet):
    """The alerts page's filters: what happened to an alert, what it is about, how bad, acknowledged or not."""

    kind = django_filters.ChoiceFilter(choices=alert_kind_choices)
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices, method="filter_status")
    acknowledged = django_filters.BooleanFilter(field_name="acknowledged_at", lookup_expr="isnull", exclude=True)

    def filter_status(self, queryset, name, value):
        return queryset.filter(alert_status_filter(value))

    class Meta:
        model = Alert
        fields = ["organization", "status", "kind", "severity", "acknowledged"]


class AlertFilterSet(AlertPageFilterSet):
    """The alerts REST filters: an alert's pair is its scope and its appliance its target (portal.models.Alert)."""

    pair = _LinkedObjectFilter(queryset=Pair.objects.all())
    appliance = _LinkedObjectFilter(queryset=Appliance.objects.all())

    class Meta:
        model = Alert
        fields = {"organization": ["exact"], "kind": ["exact"], "severity": ["exact"], "pair": ["exact"],
                  "appliance": ["exact"], "created_at": ["gte", "lte"]}

from datetime import timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms import NullBooleanSelect
from django_filters.rest_framework import DjangoFilterBackend

from .models import AuditAction, AuditEvent, Membership, Organization, Role

# PostgreSQL accepts UTC offsets up to 15:59:59 either way; Python parses up to 23:59. A wider offset in a filter
# reached the database and came back as a DataError (a 500).
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59, seconds=59)
# A number filter without bounds of its own stays inside PostgreSQL's integer: past it a lookup or an interval
# overflows in Python or in the database.
NUMBER_FILTER_RANGE = (-(2**31), 2**31 - 1)


def validate_filter_datetime(value) -> None:
    offset = value.utcoffset() if value is not None else None
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("Use a time zone offset between -15:59 and +15:59.", code="offset_range")


def bound_filter_field(field: forms.Field) -> None:
    """Bounds for one filter form field: the one place every numeric and date-time filter gets them."""
    if isinstance(field, forms.DateTimeField):
        field.validators.append(validate_filter_datetime)
    elif isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField)):
        low, high = NUMBER_FILTER_RANGE
        if field.min_value is None:
            field.min_value = low
            field.validators.append(MinValueValidator(low))
        if field.max_value is None:
            field.max_value = high
            field.validators.append(MaxValueValidator(high))


class TenantScopedFilterSet(django_filters.FilterSet):
    """Every model-choice filter offers only what the caller may see, through the chokepoint; every numeric and
    date-time filter is bounded (``bound_filter_field``), so a filter value is a field error or a result, never a 500.

    Without this an id of another organisation's object would be a valid choice (an empty result) while a
    missing id is an error, which tells the caller the object exists. Narrowed, both are the same error.
    """

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        for field in self.form.fields.values():
            bound_filter_field(field)
            if isinstance(field.widget, NullBooleanSelect):
                # In a filter, "unknown" means "don't filter": say so.
                field.widget.choices = [("unknown", "Any"), ("true", "Yes"), ("false", "No")]
        for name, filter_ in self.filters.items():
            queryset = getattr(filter_, "queryset", None)
            if queryset is not None and not callable(queryset) and hasattr(queryset, "for_user"):
                filter_.queryset = queryset.model.objects.for_user(user)
                if name in self.form.fields:
                    self.form.fields[name].queryset = filter_.queryset


class TenantFilterBackend(DjangoFilterBackend):
    """The REST filter backend: filtersets generated from ``filterset_fields`` are scoped too."""

    filterset_base = TenantScopedFilterSet


class OrganizationScopedFilterSet(TenantScopedFilterSet):
    """Adds an organisation filter whose choices are the caller's organisations."""

    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(), label="Organisation", empty_label="All organisations"
    )


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

"""Reads of the portal's own rows for pages and panels (through the tenancy chokepoint)."""

from django.db.models import Count
from django.utils import timezone

from .models import Silence


def silences_active(*, user, organization=None):
    now = timezone.now()
    return (Silence.objects.for_user(user).in_organization(organization)
            .filter(starts_at__lte=now, ends_at__gt=now).annotate(suppressed_count=Count("suppressed_alerts"))
            .order_by("ends_at"))


def silences_panel_data(request) -> dict:
    return {"silences": list(silences_active(user=request.user, organization=request.organization)[:20])}

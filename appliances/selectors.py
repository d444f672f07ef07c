"""Reads of the appliance inventory, always through the tenancy chokepoint."""

from django.db.models import Count, Q

from .models import Appliance


def appliance_list(*, user, organization=None):
    return (
        Appliance.objects.for_user(user)
        .in_organization(organization)
        .select_related("organization")
        .prefetch_related("addresses")
    )


def appliance_fleet_summary(*, user, organization=None) -> dict:
    return Appliance.objects.for_user(user).in_organization(organization).aggregate(
        total=Count("id"),
        reachable=Count("id", filter=Q(status_reachable=True)),
        unreachable=Count("id", filter=Q(status_reachable=False)),
        never_checked=Count("id", filter=Q(status_reachable__isnull=True)),
    )

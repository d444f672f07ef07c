"""An open replacement case silences the alerts about what it covers: its appliance, and its pair's alerts that
name no member (the pair is expected to be degraded while a member is away). Registered with the portal in
``RmaConfig.ready`` (``portal.alerts.register_silencer``); the portal records the reason on the alert."""

from django.db.models import Q

from .models import RmaCase, RmaStatus


def open_case_silencer(alert) -> str:
    appliance_id, pair_id = getattr(alert, "appliance_id", None), getattr(alert, "pair_id", None)
    covered = Q(appliance_id=appliance_id) if appliance_id else Q(pk__in=[])
    if pair_id and not appliance_id:
        covered |= Q(pair_id=pair_id)
    case = (RmaCase.objects.filter(covered, organization_id=alert.organization_id)
            .exclude(status=RmaStatus.CLOSED).order_by("pk").first())
    return f"Covered by open replacement case RMA #{case.pk} ({case.appliance})." if case else ""

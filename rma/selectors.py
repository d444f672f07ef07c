"""Reads of RMA cases and hardware history, always through the tenancy chokepoint."""

from django.db.models import Exists, OuterRef

from appliances.selectors import appliance_unshown_fields

from .models import ApplianceHardwareRecord, RmaCase, RmaStatus, RmaStep, RmaStepKey, RmaStepState


def rma_list(*, user, organization=None):
    return (
        RmaCase.objects.for_user(user)
        .in_organization(organization)
        .select_related("appliance", "organization", "pair", "opened_by")
    )


def rma_case_steps(*, case) -> list:
    """The case's steps with who recorded them and their attachments, in procedure order (fixed query count)."""
    return list(
        case.steps.select_related("done_by", "recorded_by").prefetch_related("attachments").order_by("position")
    )


def rma_open_case_for(*, user, appliance):
    return rma_list(user=user).filter(appliance=appliance).exclude(status=RmaStatus.CLOSED).first()


def appliance_hardware_history(*, user, appliance) -> list:
    return list(ApplianceHardwareRecord.objects.for_user(user).filter(appliance=appliance).order_by("-created_at", "-id")[:20])


def pairs_without_failover_for_rma(user, organization=None) -> list[dict]:
    """Pairs running without failover because a member is out for replacement: open cases whose failover step
    is not done yet, with since when (the case's opening). For the fleet dashboard."""
    restored = RmaStep.objects.filter(case=OuterRef("pk"), key=RmaStepKey.FAILOVER, state=RmaStepState.DONE)
    cases = (
        rma_list(user=user, organization=organization)
        .exclude(status=RmaStatus.CLOSED)
        .filter(pair__isnull=False)
        .annotate(restored=Exists(restored))
        .filter(restored=False)
        .select_related("pair__primary", "pair__backup")
        # Shown on the dashboard, polled: never load (and decrypt) the secrets of the rows it displays.
        .defer(*appliance_unshown_fields("appliance", "pair__primary", "pair__backup"), "pair__dns_tsig_secret")
        .order_by("created_at")
    )
    return [{"pair": case.pair, "appliance": case.appliance, "case": case, "since": case.created_at} for case in cases]

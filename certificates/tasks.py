"""Celery tasks of the certificates app: thin wrappers that take ids and call services.

``certificates.refresh_served`` (beat; in failover/tasks.py, which knows the pairs) fans out one task per pair
and per unpaired appliance (``refresh_served_appliance`` here); each refresh reads what is served on the wire and
alerts (throttled) on expiry and drift. Refreshes are idempotent (they overwrite the latest observation), hence
``acks_late``; unreachable appliances are recorded, not retried.
"""

import logging

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import OperationalError

from appliances.models import Appliance
from portal.permissions import SYSTEM

from .services import appliance_certificates_check, certificate_inventory_sync

logger = logging.getLogger(__name__)

#: Shared with failover's per-pair refresh (failover/tasks.py).
RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 3}


@shared_task(name="certificates.refresh_served_appliance", ignore_result=True, **RETRY)
def refresh_served_appliance(appliance_id: int) -> int:
    appliance = Appliance.objects.select_related("organization").filter(pk=appliance_id).first()
    if appliance is None:
        return 0
    return len(appliance_certificates_check(appliance=appliance))


@shared_task(name="certificates.sync_inventories", ignore_result=True)
def sync_inventories() -> int:
    """Fan out one inventory sync per appliance the portal can call, so the inventory follows what the appliances
    hold even when nobody presses the button."""
    appliance_ids = list(Appliance.objects.exclude(client_id="").values_list("pk", flat=True))
    for appliance_id in appliance_ids:
        sync_inventory.delay_on_commit(appliance_id)
    return len(appliance_ids)


@shared_task(name="certificates.sync_inventory", ignore_result=True, **RETRY)
def sync_inventory(appliance_id: int) -> int:
    """Read an appliance's certificates into the inventory; an unreachable appliance is logged, not retried
    (the next sync or the operator's button catches up)."""
    appliance = Appliance.objects.filter(pk=appliance_id).exclude(client_id="").first()
    if appliance is None:
        return 0
    try:
        result = certificate_inventory_sync(actor=SYSTEM, appliance=appliance)
    except ValidationError as error:
        logger.warning("certificate inventory of appliance %s not synced: %s", appliance_id, error.messages)
        return 0
    return len(result.created) + len(result.updated)

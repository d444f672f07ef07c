"""The driver client operations use: the inventory's one mapping (``appliances.connect``) with a longer timeout."""

from appliances.connect import appliance_client
from appliances.drivers import ApplianceClient

# A role change without "sync first" answers only once the swap is over; give it room, but stay below the
# pair lock's TTL (locks.LOCK_TTL_SECONDS): no single call may outlive the lock that guards it.
OPERATION_CALL_TIMEOUT = 45.0


def client_for(appliance) -> ApplianceClient:
    return appliance_client(appliance, timeout=OPERATION_CALL_TIMEOUT)

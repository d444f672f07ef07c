"""The driver client operations use: the inventory's one builder (``appliances.connect``) with the long
timeout a worker can afford."""

from appliances.connect import OPERATION_TIMEOUT, appliance_client
from appliances.drivers import ApplianceClient


def client_for(appliance) -> ApplianceClient:
    return appliance_client(appliance, timeout=OPERATION_TIMEOUT)

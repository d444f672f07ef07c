"""What a test uses to act on a simulated appliance behind the portal's back, with a worker's budget."""

from appliances.connect import ClientPurpose, appliance_client


def client_for(appliance):
    return appliance_client(appliance, purpose=ClientPurpose.OPERATION)

"""What the RMA panels show on pages of the apps below (registered in ``RmaConfig.ready``)."""

from portal.models import Role
from portal.permissions import has_role

from .selectors import appliance_hardware_history, pairs_without_failover_for_rma, rma_open_case_for


def dashboard_panel_data(request) -> dict:
    return {"rows": pairs_without_failover_for_rma(request.user, request.organization)}


def appliance_panel_data(request, *, appliance) -> dict:
    user = request.user
    return {
        "appliance": appliance,
        "open_case": rma_open_case_for(user=user, appliance=appliance),
        "hardware": appliance_hardware_history(user=user, appliance=appliance),
        "can_open_case": has_role(user, appliance.organization_id, Role.OPERATOR),
    }

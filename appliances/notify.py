"""What the portal's notifications know of an appliance: its routing labels and its state line in a message.
Registered in ``AppliancesConfig.ready`` (``portal.alerts.register_alert_link``)."""

from portal.alerts import ObjectSummary


def appliance_labels(appliance) -> dict:
    # The location routes a data centre's alerts to the team on site; an appliance without one has no label
    # (a matcher location="" still finds it, as in Alertmanager). Tags join here when appliances have them.
    labels = {"appliance": appliance.name}
    if appliance.location:
        labels["location"] = appliance.location
    return labels


def appliance_summary(appliance) -> ObjectSummary:
    if appliance.status_reachable is None:
        return ObjectSummary(state="Never probed", next_action="Check the appliance's address and credentials.")
    state = "Reachable" if appliance.status_reachable else f"Unreachable ({appliance.status_error or 'no answer'})"
    return ObjectSummary(state=state, since=appliance.status_checked_at,
                         next_action="" if appliance.status_reachable else
                         "Check the appliance's network path and power; open its page for the last probe's error.")

from django.apps import AppConfig


class AppliancesConfig(AppConfig):
    name = "appliances"
    verbose_name = "Appliances"

    def ready(self):
        from portal.alerts import register_alert_kinds, register_alert_link
        from portal.metrics import register_collector
        from portal.panels import PanelSlot, register_panel

        from .alerts import ApplianceAlertKind
        from .metrics import ApplianceCollector
        from .models import Appliance
        from .notify import appliance_labels, appliance_summary
        from .selectors import appliance_fleet_summary

        register_alert_kinds(ApplianceAlertKind)
        register_collector("appliances", ApplianceCollector())
        # An alert's target is the appliance it concerns (Appliance.alerts is the query side).
        register_alert_link("appliance", slot="target", model=Appliance, labels=appliance_labels,
                            summary=appliance_summary)

        def summary(request) -> dict:
            return appliance_fleet_summary(user=request.user, organization=request.organization)

        register_panel(PanelSlot.DASHBOARD_SUMMARY, template="appliances/dashboard_summary.html", data=summary, order=10)

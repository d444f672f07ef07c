from django.apps import AppConfig


class AppliancesConfig(AppConfig):
    name = "appliances"
    verbose_name = "Appliances"

    def ready(self):
        from portal.panels import PanelSlot, register_panel

        from .selectors import appliance_fleet_summary

        def summary(request) -> dict:
            return appliance_fleet_summary(user=request.user, organization=request.organization)

        register_panel(PanelSlot.DASHBOARD_SUMMARY, template="appliances/dashboard_summary.html", data=summary, order=10)

from django.apps import AppConfig


class RmaConfig(AppConfig):
    name = "rma"
    verbose_name = "Hardware replacement (RMA)"

    def ready(self):
        from portal.alerts import register_silencer
        from portal.panels import PanelSlot, register_panel

        from .notify import open_case_silencer
        from .panels import appliance_panel_data, dashboard_panel_data

        register_silencer("rma-open-case", open_case_silencer)
        register_panel(PanelSlot.DASHBOARD, template="rma/dashboard_panel.html", data=dashboard_panel_data, order=30)
        register_panel(PanelSlot.APPLIANCE_DETAIL, template="rma/appliance_panel.html", data=appliance_panel_data,
                       order=10)

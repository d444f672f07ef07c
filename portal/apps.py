from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal and tenancy"

    def ready(self):
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from .metrics import register_collector
        from .metrics.collectors import PortalCollector
        from .panels import PanelSlot, register_panel
        from .selectors import silences_panel_data
        from .services.audit import record_lockout, record_login

        # Sign-ins are audited like every other action; the receiver only records, it decides nothing.
        user_logged_in.connect(record_login, dispatch_uid="portal.audit.login")
        user_locked_out.connect(record_lockout, dispatch_uid="portal.audit.lockout")
        register_panel(PanelSlot.DASHBOARD, template="portal/notifications/dashboard_silences.html",
                       data=silences_panel_data, order=40)
        register_collector("portal", PortalCollector())

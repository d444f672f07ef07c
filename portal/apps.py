from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal and tenancy"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .services.audit import record_login

        # Sign-ins are audited like every other action; the receiver only records, it decides nothing.
        user_logged_in.connect(record_login, dispatch_uid="portal.audit.login")

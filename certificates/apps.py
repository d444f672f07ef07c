from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = "Certificates"

    def ready(self):
        from portal.alerts import register_alert_kinds

        from .alerts import CertificateAlertKind

        register_alert_kinds(CertificateAlertKind)

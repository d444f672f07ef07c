"""The alert kinds the certificates app raises (registered with the portal in ``CertificatesConfig.ready``)."""

from django.db import models


class CertificateAlertKind(models.TextChoices):
    CERTIFICATE_EXPIRY = "cert_expiry", "Certificate expiring"
    CERTIFICATE_DRIFT = "cert_drift", "Certificate drift"

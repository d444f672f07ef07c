from django.contrib import admin

from .models import Certificate, ServedCertificate


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "appliance", "organization", "not_after", "is_default", "on_appliance", "source"]
    list_filter = ["is_default", "on_appliance", "source", "organization"]
    search_fields = ["friendly_name", "common_name", "fingerprint_sha256", "appliance__name"]
    # The private key is never shown, not even to superusers.
    exclude = ["private_key"]
    readonly_fields = ["certificate_pem", "chain_pem", "fingerprint_sha256", "spki_sha256"]
    raw_id_fields = ["appliance"]


@admin.register(ServedCertificate)
class ServedCertificateAdmin(admin.ModelAdmin):
    list_display = ["appliance", "server_name", "fingerprint_sha256", "not_after", "error", "checked_at"]
    list_filter = ["organization"]
    raw_id_fields = ["appliance"]

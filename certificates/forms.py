"""Forms of the certificates app. Appliance and certificate choices go through the tenancy chokepoint."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from appliances.models import Appliance
from portal.models import Role

from .conf import max_upload_size
from .crypto import ExportFormat

PASSPHRASE_WIDGET = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})


class CertificateFileField(forms.FileField):
    """An upload refused before it is read when it is over the size cap."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and upload.size > max_upload_size():
            raise forms.ValidationError(
                f"The file is {upload.size // 1024} KiB; certificate files larger than "
                f"{max_upload_size() // 1024} KiB are refused.",
                code="too_large",
            )
        return upload


class PortalForm(forms.Form):
    """A plain form built by the generic edit view (which passes the user, the organisation, the object)."""

    submit_label = "Save"

    def __init__(self, *args, user, organization=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.organization = organization
        self.instance = instance
        self.helper = FormHelper(self)
        self.helper.add_input(Submit("submit", self.submit_label))


class CertificateImportForm(PortalForm):
    submit_label = "Import"

    appliance = forms.ModelChoiceField(queryset=Appliance.objects.none())
    file = CertificateFileField(
        help_text="A PKCS#12 file (.p12/.pfx) or a PEM bundle: the certificate, its chain and its private key."
    )
    passphrase = forms.CharField(
        required=False, strip=False, widget=PASSPHRASE_WIDGET,
        help_text="The file's passphrase (PKCS#12) or the encrypted private key's passphrase (PEM).",
    )
    friendly_name = forms.CharField(required=False, max_length=200)
    assigned_ip = forms.GenericIPAddressField(required=False, unpack_ipv4=True, label="Assigned IP")
    make_default = forms.BooleanField(
        required=False, label="Default certificate",
        help_text="Serve it to clients that send no server name (SNI). Must not be self-signed.",
    )
    install = forms.BooleanField(
        required=False, label="Install on the appliance",
        help_text="Send the certificate, chain and key to the appliance through its API.",
    )

    def __init__(self, *args, appliance=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = Appliance.objects.for_user(self.user, role=Role.ADMIN).in_organization(self.organization)
        self.fields["appliance"].queryset = queryset
        if appliance is not None:
            self.fields["appliance"].initial = appliance.pk


class CertificateExportForm(PortalForm):
    submit_label = "Export"

    export_format = forms.ChoiceField(
        choices=[(ExportFormat.PKCS12.value, "PKCS#12 (.p12)"), (ExportFormat.PEM.value, "PEM")],
        initial=ExportFormat.PKCS12.value, label="Format",
    )
    include_chain = forms.BooleanField(required=False, initial=True, label="Include the certificate chain")
    include_key = forms.BooleanField(required=False, label="Include the private key (admins only, audited)")
    passphrase = forms.CharField(
        required=False, strip=False, widget=PASSPHRASE_WIDGET,
        help_text="Required with the private key; protects the file (AES-256, PBKDF2).",
    )
    passphrase_again = forms.CharField(required=False, strip=False, widget=PASSPHRASE_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Offered whenever there is a key to export; the service refuses it to anyone but an admin (403).
        if not (self.instance and self.instance.portal_has_key):
            del self.fields["include_key"]

    def clean(self):
        data = super().clean()
        if data.get("passphrase", "") != data.get("passphrase_again", ""):
            self.add_error("passphrase_again", "The two passphrases differ.")
        return data



from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.conf import settings

from portal.forms import TenantModelForm
from portal.models import Organization, Role

from ..models import Appliance, ApplianceAddress
from ..services import APPLIANCE_EDITABLE_FIELDS
from ..validators import validate_oauth_credential

#: Name of the form's second submit button: test the entered values instead of saving them.
TEST_CONNECTION = "test_connection"


class ApplianceForm(TenantModelForm):
    client_secret = forms.CharField(
        required=False,
        validators=[validate_oauth_credential],
        label="OAuth client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the stored secret.",
    )
    probe_client_secret = forms.CharField(
        required=False,
        label="Read-only client secret (probing)",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Optional read-only API account for probing. Stored encrypted and never shown again.",
    )
    backup_password = forms.CharField(
        required=False,
        label="Backup password",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Only if the appliance's backups are password-protected. Stored encrypted, never shown again.",
    )

    class Meta:
        model = Appliance
        fields = ["organization", *APPLIANCE_EDITABLE_FIELDS]
        widgets = {"ca_bundle": forms.Textarea(attrs={"rows": 4, "class": "monospace"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_client_secret:
            self.fields["client_secret"].help_text = "A secret is stored. Leave empty to keep it; type a new one to replace it."
        if self.instance.pk and self.instance.has_probe_client_secret:
            self.fields["probe_client_secret"].help_text = ("A secret is stored. Leave empty to keep it; type a new "
                                                            "one to replace it.")
        if self.instance.pk and self.instance.has_backup_password:
            self.fields["backup_password"].help_text = ("A password is stored. Leave empty to keep it; type a new one "
                                                        "to replace it.")
        self.helper.layout = Layout(
            Fieldset("Appliance", "organization", "name", "management_host", "management_port", "site_hostname",
                     "location"),
            Fieldset("Identity", "appliance_guid", "model", "serial_number", "product_version", "build"),
            Fieldset("API access", "client_id", "client_secret", "probe_client_id", "probe_client_secret",
                     "backup_password"),
            Fieldset("TLS trust", "ca_bundle", "tls_pin"),
            Fieldset("Probing", "probe_interval", "probe_timeout"),
        )
        self.helper.add_input(Submit(TEST_CONNECTION, "Test connection", css_class="btn-outline-secondary"))

    def clean_appliance_guid(self):
        return self.cleaned_data.get("appliance_guid", "").lower()

    def _keep_stored(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        # An empty field means "keep what is stored", so the model's both-or-neither check still holds.
        if not value and self.instance.pk:
            return getattr(self.instance, name)
        return value

    def clean_client_secret(self):
        return self._keep_stored("client_secret")

    def clean_probe_client_secret(self):
        return self._keep_stored("probe_client_secret")

    def clean_backup_password(self):
        return self._keep_stored("backup_password")


class ApplianceAddressForm(TenantModelForm):
    class Meta:
        model = ApplianceAddress
        fields = ["appliance", "address", "prefix_length", "kind", "enabled"]

    def __init__(self, *args, appliance=None, **kwargs):
        super().__init__(*args, **kwargs)
        if appliance is not None:
            self.fields["appliance"].initial = appliance.pk
        if self.instance.pk:
            self.fields["appliance"].disabled = True


class ApplianceImportForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none())
    file = forms.FileField(help_text="A CSV file with a header row; see the column list below.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.for_user(user, role=Role.ADMIN)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.CSV_IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"The file is larger than {settings.CSV_IMPORT_MAX_BYTES // 1024} KiB.")
        return upload

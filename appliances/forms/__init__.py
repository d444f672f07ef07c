from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.conf import settings

from portal.forms import TenantModelForm
from portal.models import Organization, Role

from ..models import Appliance, ApplianceAddress
from ..services import APPLIANCE_EDITABLE_FIELDS
from ..validators import validate_oauth_credential


class ApplianceForm(TenantModelForm):
    client_secret = forms.CharField(
        required=False,
        validators=[validate_oauth_credential],
        label="OAuth client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the stored secret.",
    )

    class Meta:
        model = Appliance
        fields = ["organization", *APPLIANCE_EDITABLE_FIELDS]
        widgets = {"ca_bundle": forms.Textarea(attrs={"rows": 4, "class": "monospace"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_client_secret:
            self.fields["client_secret"].help_text = "A secret is stored. Leave empty to keep it; type a new one to replace it."
        self.helper.layout = Layout(
            Fieldset("Appliance", "organization", "name", "management_host", "management_port", "site_hostname"),
            Fieldset("Identity", "appliance_guid", "model", "serial_number", "product_version", "build"),
            Fieldset("API access", "client_id", "client_secret"),
            Fieldset("TLS trust", "ca_bundle", "tls_pin"),
            Fieldset("Probing", "probe_interval", "probe_timeout"),
        )

    def clean_appliance_guid(self):
        return self.cleaned_data.get("appliance_guid", "").lower()

    def clean_client_secret(self):
        secret = self.cleaned_data.get("client_secret", "")
        # An empty field means "keep what is stored", so the model's both-or-neither check still holds.
        if not secret and self.instance.pk:
            return self.instance.client_secret
        return secret


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

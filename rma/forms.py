"""Forms of the RMA pages: opening a case, and one form per step (the same forms validate the REST payloads).

Fields are mostly optional here on purpose: the step rules in ``rma.services`` decide what is missing and
say why, so the UI and the API give the same reasons."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from appliances.models import Appliance, ConfigurationBackup
from portal.models import Role

from .models import RestorePath, RmaStepKey
from .rules import FACTORY_DEFAULT_LOGIN_REMINDER


class RmaOpenForm(forms.Form):
    appliance = forms.ModelChoiceField(queryset=Appliance.objects.none(), help_text="The defective appliance.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    vendor_case_number = forms.CharField(max_length=64, required=False, label="Vendor support case number")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appliance"].queryset = Appliance.objects.for_user(user, role=Role.OPERATOR).select_related(
            "organization"
        )
        self.helper = FormHelper(self)
        self.helper.add_input(Submit("submit", "Open case"))


class StepForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)
    attachment = forms.FileField(
        required=False, help_text="PNG, JPEG or PDF (a status page screenshot, a shipping label), at most 10 MiB."
    )
    submit_label = "Record"

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        # The step's own fields first, the notes and the attachment last.
        self.order_fields([name for name in self.fields if name not in ("notes", "attachment")])
        self.helper = FormHelper(self)
        self.helper.form_tag = False


class ReceivedForm(StepForm):
    replacement_model = forms.CharField(max_length=50, required=False)
    replacement_serial = forms.CharField(max_length=64, required=False, label="Replacement serial number")
    racked_and_connected = forms.BooleanField(required=False)
    first_login_done = forms.BooleanField(required=False, label="First login done")
    default_password_changed = forms.BooleanField(
        required=False, label="Factory default password changed", help_text=FACTORY_DEFAULT_LOGIN_REMINDER
    )


class NetworkForm(StepForm):
    management_host = forms.CharField(max_length=253, required=False, help_text="The replacement's management address.")
    management_port = forms.IntegerField(min_value=1, max_value=65535, initial=443, required=False)
    ca_bundle = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "class": "monospace"}), required=False,
                                label="CA bundle (PEM)")
    tls_pin = forms.CharField(max_length=120, required=False, label="Pinned fingerprint")
    client_id = forms.CharField(max_length=128, required=False, label="OAuth client id")
    client_secret = forms.CharField(
        max_length=512, required=False, label="OAuth client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted on the appliance record, never shown again.",
    )


class CertificatesForm(StepForm):
    method = forms.ChoiceField(
        choices=[("manual", "Exported from the primary and imported by hand"), ("replicated", "Portal replication")],
        required=False,
    )
    parity_verified = forms.BooleanField(required=False, label="Certificates match the primary's")


class RegisteredForm(StepForm):
    status_details_sent = forms.BooleanField(required=False, label="Status details sent to the vendor's support")
    package_received = forms.BooleanField(required=False, label="Software package built and received")


class FailoverForm(StepForm):
    restore_path = forms.ChoiceField(choices=[("", "—"), *RestorePath.choices], required=False)
    restore_backup = forms.ModelChoiceField(
        queryset=ConfigurationBackup.objects.none(), required=False,
        help_text="Asynchronous path: the primary's latest configuration backup, restored on the replacement first.",
    )
    backup_restored = forms.BooleanField(required=False, label="Backup restored on the replacement")

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, case=case, user=user, **kwargs)
        backups = ConfigurationBackup.objects.none()
        if case is not None and case.pair_id and user is not None:
            peer = case.pair.peer_of(case.appliance)
            backups = ConfigurationBackup.objects.for_user(user).without_content().good().filter(appliance=peer)
        self.fields["restore_backup"].queryset = backups.select_related("appliance")


class SupportNotifiedForm(StepForm):
    support_notified = forms.BooleanField(required=False, label="Support told the restore is complete")
    return_label_received = forms.BooleanField(required=False)


class ReturnedForm(StepForm):
    factory_reset = forms.BooleanField(required=False, label="Defective appliance reset to factory defaults")
    shut_down = forms.BooleanField(required=False, label="Defective appliance shut down")
    tracking_number = forms.CharField(max_length=100, required=False, label="Shipment tracking number")


STEP_FORMS: dict[str, type[StepForm]] = {
    RmaStepKey.RECEIVED: ReceivedForm,
    RmaStepKey.NETWORK: NetworkForm,
    RmaStepKey.CERTIFICATES: CertificatesForm,
    RmaStepKey.REGISTERED: RegisteredForm,
    RmaStepKey.FAILOVER: FailoverForm,
    RmaStepKey.SUPPORT_NOTIFIED: SupportNotifiedForm,
    RmaStepKey.RETURNED: ReturnedForm,
}


def step_data(form: StepForm) -> dict:
    """What the step service takes: everything but the notes and the file."""
    return {k: v for k, v in form.cleaned_data.items() if k not in ("notes", "attachment")}

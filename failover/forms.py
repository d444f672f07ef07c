"""Forms of the failover pages: the pair, establishing it, the role-change and other actions, backup settings,
shared IPs, the advice filter, and replicating the pair's certificate."""

import ipaddress

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from appliances.models import Appliance
from appliances.selectors import appliance_unshown_fields
from certificates.forms import PASSPHRASE_WIDGET, CertificateFileField, PortalForm
from certificates.models import Certificate
from portal.forms import TenantModelForm
from portal.models import Organization, Role

from .advice_selectors import CODE_CHOICES, SEVERITY_CHOICES
from .maintenance_selectors import MAX_WINDOW_MINUTES, MIN_RUNBOOK_WINDOW_MINUTES
from .models import BackupSettings, EvacuationDirection, NetworkMethod, Pair
from .probing.locations import location_catalogue
from .services.locations import MAX_LOCATIONS
from .services.pairs import BACKUP_SETTINGS_FIELDS, PAIR_EDITABLE_FIELDS

SECRET_HELP = "Stored encrypted and never shown. Leave empty to keep the stored one."


def _ip_list(value: str) -> list[str]:
    """Comma, space or line separated IPs -> normalised list, or a field error naming the bad entry."""
    ips = []
    for item in value.replace(",", " ").split():
        try:
            ips.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise forms.ValidationError(f"“{item}” is not an IP address.") from None
    return ips


class PairForm(TenantModelForm):
    dns_tsig_secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                                      help_text=SECRET_HELP, label="DNS TSIG secret")

    class Meta:
        model = Pair
        fields = ["organization", *PAIR_EDITABLE_FIELDS]
        labels = {
            "backup_host": "Backup host (how the primary reaches the backup)", "backup_port": "Backup TLS port",
            "reverse_host": "Reverse host (how the backup reaches the primary)", "reverse_port": "Reverse TLS port",
        }


class _ActionForm(forms.Form):
    submit_label = "Start"
    reason = forms.CharField(required=False, max_length=500, help_text="Recorded in the audit log with your name.")
    # Made when the page is rendered (see the pair views): submitting the same form twice starts one operation.
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper(self)
        self.helper.add_input(Submit("submit", self.submit_label))


class ReasonForm(_ActionForm):
    pass


class EstablishForm(_ActionForm):
    submit_label = "Establish relationship"
    key_fingerprint = forms.CharField(
        required=False, max_length=100, label="Inter-appliance key fingerprint (SHA-256)",
        help_text="Optional when the appliances report their key; never enter the key itself.",
    )
    guided = forms.BooleanField(required=False, label="Guide me through doing it on the appliance instead")


class RoleChangeForm(_ActionForm):
    appliance = forms.IntegerField(widget=forms.HiddenInput)
    sync_first = forms.BooleanField(required=False, label="Pull a data sync from the peer first "
                                    "(users are disconnected; nothing else is possible until the swap completes)")
    force = forms.BooleanField(required=False, label="Become backup even if the peer cannot be contacted")


class FixConflictForm(_ActionForm):
    """Fix this error, confirmed from its preview: the member shown as the one to keep primary, and force."""

    winner = forms.IntegerField(widget=forms.HiddenInput)
    force = forms.BooleanField(required=False, label="Force: make the other member backup even if it cannot reach "
                               "its peer")
    confirm = forms.BooleanField(required=True, label="I have read what will happen",
                                 error_messages={"required": "Confirm that you have read what will happen."})


class BackupSettingsForm(TenantModelForm):
    connectivity_test_ips = forms.CharField(
        required=False, label="Network connectivity test IPs",
        help_text="Addresses the backup must reach before failing over (separate with commas or spaces).",
    )

    class Meta:
        model = BackupSettings
        fields = BACKUP_SETTINGS_FIELDS
        labels = {"primary_timeout": "Primary site instance timeout (seconds)",
                  "sync_interval": "Automatic data-sync interval (seconds, 0 = off)",
                  "bandwidth_limit": "Data-sync bandwidth limit (kbit/s, 0 = unlimited)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["connectivity_test_ips"] = ", ".join(self.instance.connectivity_test_ips or [])

    def clean_connectivity_test_ips(self):
        return _ip_list(self.cleaned_data["connectivity_test_ips"])


class SharedIpsForm(_ActionForm):
    submit_label = "Save shared IPs"
    reason = None
    ips = forms.CharField(required=False, label="Shared IPs", widget=forms.Textarea(attrs={"rows": 2}),
                          help_text="Enabled while this appliance is primary, disabled while it is backup.")
    prefix_length = forms.IntegerField(min_value=0, max_value=128, initial=24)

    def clean_ips(self):
        return _ip_list(self.cleaned_data["ips"])


class AdviceFilterForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.none(), required=False,
                                          empty_label="All organisations")
    code = forms.ChoiceField(choices=[("", "Any finding"), *CODE_CHOICES], required=False, label="Finding")
    severity = forms.ChoiceField(choices=[("", "Any severity"), *SEVERITY_CHOICES], required=False)
    q = forms.CharField(required=False, label="Site name")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.for_user(user)


class PairReplicateForm(PortalForm):
    submit_label = "Replicate to the backup"

    certificate = forms.ModelChoiceField(
        queryset=Certificate.objects.none(), required=False,
        help_text="The primary's certificate to copy (default: the primary's default certificate).",
    )
    file = CertificateFileField(
        required=False,
        help_text="Only when the portal does not hold the key: the primary's export (certificate, chain and key).",
    )
    passphrase = forms.CharField(required=False, strip=False, widget=PASSPHRASE_WIDGET,
                                 help_text="The export file's passphrase; asked once, used for the backup too.")

    def __init__(self, *args, pair, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certificate"].queryset = Certificate.objects.for_user(self.user, role=Role.OPERATOR).filter(
            appliance_id=pair.primary_id
        )


class AdoptForm(forms.Form):
    """Adopt an existing pair: the two appliances (any order) and what the vendor API cannot report."""

    first = forms.ModelChoiceField(queryset=Appliance.objects.none(), label="One appliance of the pair")
    second = forms.ModelChoiceField(queryset=Appliance.objects.none(), label="The other appliance")
    site_hostname = forms.CharField(required=False, max_length=253, label="Site name",
                                    help_text="e.g. access.example.com; optional when both appliances record it.")
    normal_primary = forms.ModelChoiceField(
        queryset=Appliance.objects.none(), required=False, label="Normal primary",
        empty_label="The one that is primary now",
        help_text="Change only for a pair running on its backup right now.")
    network_method = forms.ChoiceField(choices=[("", "Shared IP (read from the primary)"),
                                                *[c for c in NetworkMethod.choices if c[0] != NetworkMethod.SHARED_IP]],
                                       required=False, help_text="Only when the primary reports no shared IP.")
    dns_server = forms.CharField(required=False, max_length=253, label="DNS server (DNS swing)")
    dns_zone = forms.CharField(required=False, max_length=253, label="DNS zone (DNS swing)")
    nat_public_address = forms.GenericIPAddressField(required=False, label="Public address (NAT swing)")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        appliances = Appliance.objects.for_user(user, role=Role.ADMIN).defer(*appliance_unshown_fields())
        for name in ("first", "second", "normal_primary"):
            self.fields[name].queryset = appliances
        self.helper = FormHelper(self)
        self.helper.add_input(Submit("submit", "Read both and adopt"))

    def network(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in ("network_method", "dns_server", "dns_zone",
                                                                      "nat_public_address")}
class RunbookForm(_ActionForm):
    """Starting a runbook. ``login_changed`` is the unplanned flow's one question; the view requires it there."""

    submit_label = "Start runbook"
    window_minutes = forms.IntegerField(
        required=False, min_value=MIN_RUNBOOK_WINDOW_MINUTES, max_value=MAX_WINDOW_MINUTES,
        label="Maintenance window (minutes)",
        help_text="Alerts about the appliance are suppressed and automatic failover is paused for this long "
                  "(4 hours when empty); the window closes when the runbook ends.")
    login_changed = forms.ChoiceField(
        required=False, widget=forms.RadioSelect, label="Have /login settings changed since the last data sync?",
        choices=[("no", "No: flow 1 (swap back with a data sync first)"),
                 ("yes", "Yes: flow 2 (track changes, re-apply them after the swap back, then a data sync)")])


class ChangeLogForm(forms.Form):
    text = forms.CharField(max_length=1000, label="/login change made on the interim primary",
                           widget=forms.TextInput(attrs={"placeholder": "e.g. Users & Security > Group policy "
                                                                        "“Night shift” added"}))


class MaintenanceWindowForm(forms.Form):
    pair = forms.IntegerField(required=False, widget=forms.HiddenInput)
    starts_at = forms.DateTimeField(label="From (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label="Until (UTC)", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(required=False, max_length=300)


class DrillScheduleForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Run drills")
    every_days = forms.IntegerField(min_value=1, max_value=366, initial=30, label="Every (days)")


class EvacuationPlanForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=None)
    location = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"list": "known-locations"}))
    direction = forms.ChoiceField(choices=EvacuationDirection.choices, initial=EvacuationDirection.EVACUATE)
    concurrency = forms.IntegerField(min_value=1, max_value=50, initial=5, label="Switchovers at once")
    stop_after_failures = forms.IntegerField(min_value=1, max_value=1000, initial=3,
                                             label="Stop after this many failures")

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        # Scoped to the organisations the person operates in: another's id is "not a valid choice".
        self.fields["organization"].queryset = organizations


class ProbeLocationsForm(forms.Form):
    """An organisation's default probe locations and quorum; without the quorum, one appliance's override (none
    ticked: the organisation's default). The service checks the rest (the quorum against the locations)."""

    locations = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Probe locations",
        help_text="Where the appliances are probed from. None ticked: the portal's own workers (local) alone.")
    quorum = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_LOCATIONS, label="Quorum",
        help_text="How many of these locations must see a primary down before an automatic failover. Empty: a "
                  "majority of them.")

    def __init__(self, *args, with_quorum: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["locations"].choices = location_catalogue()
        if not with_quorum:
            del self.fields["quorum"]
            self.fields["locations"].help_text = "None ticked: the organisation's default locations."
        self.helper = FormHelper(self)
        self.helper.add_input(Submit("submit", "Save probe locations"))

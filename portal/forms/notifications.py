"""Forms of the notification settings. Matchers and group-by labels are typed as text
(``severity="critical", pair=~"shop-.*"``) and stored as JSON; the channel URL is write-only."""

from django import forms
from django.core.exceptions import ValidationError

from ..models import NotificationChannel, NotificationRoute, Silence
from ..notifications.matchers import LABEL_NAME, matchers_text, parse_matchers
from ..services.notification_settings import NOTIFICATION_ROLES
from .base import TenantModelForm


class MatchersField(forms.CharField):
    def prepare_value(self, value):
        return matchers_text(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value)
        return [m.as_json() for m in parse_matchers(text)]


class LabelListField(forms.CharField):
    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        names = [n.strip() for n in (super().to_python(value) or "").split(",") if n.strip()]
        bad = [n for n in names if not LABEL_NAME.match(n)]
        if bad:
            raise ValidationError(f"Not label names: {', '.join(bad)}.")
        return names


class ChannelForm(TenantModelForm):
    url = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False), label="Apprise URL",
                          help_text=NotificationChannel._meta.get_field("url").help_text
                          + " Leave blank to keep the stored URL.")

    class Meta:
        model = NotificationChannel
        fields = ["organization", "name", "kind", "url", "recipients", "enabled"]
        widgets = {"recipients": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.url_redacted:
            self.fields["url"].help_text = f"Stored: {self.instance.url_redacted}. Leave blank to keep it."


class RouteForm(TenantModelForm):
    matchers = MatchersField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text='One per line or comma-separated: severity="critical", kind=~"primary_.*", '
                                       'pair="shop.example.com", appliance!="lab-1". Empty matches every alert.')
    group_by = LabelListField(required=False, help_text="Labels, comma-separated (e.g. kind). Alerts with the "
                                                        "same values go out in one message.")

    class Meta:
        model = NotificationRoute
        fields = ["organization", "name", "position", "matchers", "channels", "continue_matching", "group_by",
                  "group_wait", "group_interval", "repeat_interval", "send_resolved", "escalation_channel",
                  "escalate_after"]
        widgets = {"channels": forms.CheckboxSelectMultiple}


class SilenceForm(TenantModelForm):
    required_role = NOTIFICATION_ROLES["silence"]
    matchers = MatchersField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text='e.g. pair="shop.example.com" or appliance="lab-1", kind="sync_stale".')
    starts_at = forms.DateTimeField(required=False, help_text="UTC, e.g. 2026-12-01 22:00. Blank: now.")
    ends_at = forms.DateTimeField(help_text="UTC, e.g. 2026-12-02 02:00.")

    submit_label = "Create silence"

    class Meta:
        model = Silence
        fields = ["organization", "matchers", "starts_at", "ends_at", "comment"]



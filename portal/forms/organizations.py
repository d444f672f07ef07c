from django import forms

from ..models import Membership, Organization, User
from .base import TenantModelForm


class OrganizationForm(TenantModelForm):
    class Meta:
        model = Organization
        fields = ["name", "slug", "alert_recipients"]

    def clean_alert_recipients(self):
        value = self.cleaned_data["alert_recipients"]
        validator = forms.EmailField()
        for line in value.splitlines():
            if line.strip():
                try:
                    validator.clean(line.strip())
                except forms.ValidationError as exc:
                    raise forms.ValidationError(f"“{line.strip()}” is not an email address.") from exc
        return value


class MembershipForm(TenantModelForm):
    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        to_field_name="username",
        widget=forms.TextInput,
        help_text="The username of an existing account.",
        error_messages={"invalid_choice": "No active user has that username."},
    )

    class Meta:
        model = Membership
        fields = ["organization", "user", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["user"].disabled = True
            self.initial["user"] = self.instance.user.username

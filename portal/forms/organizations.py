from crispy_forms.helper import FormHelper
from django.contrib.auth.forms import UserCreationForm

from ..models import Invitation, Membership, Organization, User
from .base import TenantModelForm


class OrganizationForm(TenantModelForm):
    class Meta:
        model = Organization
        fields = ["name", "slug", "alert_recipients", "outbound_allowed_networks"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.user.sees_all_organizations:
            for name in Organization.PLATFORM_OPERATOR_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = "Set by the platform operators."


class MembershipForm(TenantModelForm):
    """Changes a member's role. Members join by invitation (``InvitationForm``), never by picking an account."""

    class Meta:
        model = Membership
        fields = ["role"]


class InvitationForm(TenantModelForm):
    submit_label = "Send invitation"

    class Meta:
        model = Invitation
        fields = ["organization", "email", "role"]
        help_texts = {"email": "The link is sent there. Whoever opens it signs in or creates an account, then joins."}


class AcceptInvitationSignupForm(UserCreationForm):
    """A new account for the invited person; the email is the invited address."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "first_name", "last_name"]

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.email = email
        self.helper = FormHelper(self)
        self.helper.form_tag = False

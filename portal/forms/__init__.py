from .base import OrganizationChoiceForm, TenantModelForm, narrow_choices_for_user
from .organizations import AcceptInvitationSignupForm, InvitationForm, MembershipForm, OrganizationForm

__all__ = [
    "AcceptInvitationSignupForm",
    "InvitationForm",
    "MembershipForm",
    "OrganizationChoiceForm",
    "OrganizationForm",
    "TenantModelForm",
    "narrow_choices_for_user",
]
from .notifications import ChannelForm, RouteForm, SilenceForm  # noqa: E402

__all__ += ["ChannelForm", "RouteForm", "SilenceForm"]

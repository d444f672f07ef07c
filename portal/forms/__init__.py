from .base import OrganizationChoiceForm, TenantModelForm, narrow_choices_for_user
from .organizations import MembershipForm, OrganizationForm

__all__ = ["MembershipForm", "OrganizationChoiceForm", "OrganizationForm", "TenantModelForm", "narrow_choices_for_user"]

from django.urls import path

from .views import audit, invitations, organizations, tokens
from .views.dashboard import dashboard

app_name = "portal"

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("organization/switch/", organizations.organization_switch, name="organization_switch"),
    path("organizations/", organizations.OrganizationListView.as_view(), name="organization_list"),
    path("organizations/add/", organizations.OrganizationEditView.as_view(), name="organization_add"),
    path("organizations/<int:pk>/edit/", organizations.OrganizationEditView.as_view(), name="organization_edit"),
    path("organizations/<int:pk>/delete/", organizations.OrganizationDeleteView.as_view(), name="organization_delete"),
    path("members/", organizations.MembershipListView.as_view(), name="membership_list"),
    path("members/invitations/", invitations.InvitationListView.as_view(), name="invitation_list"),
    path("members/invite/", invitations.InvitationCreateView.as_view(), name="invitation_add"),
    path("members/invitations/<int:pk>/revoke/", invitations.invitation_revoke_view, name="invitation_revoke"),
    path("invitations/<str:secret>/", invitations.invitation_accept_view, name="invitation_accept"),
    path("members/<int:pk>/edit/", organizations.MembershipEditView.as_view(), name="membership_edit"),
    path("members/<int:pk>/delete/", organizations.MembershipDeleteView.as_view(), name="membership_delete"),
    path("tokens/", tokens.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("audit/", audit.AuditEventListView.as_view(), name="audit_list"),
]

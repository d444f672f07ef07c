from django.urls import path

from .views import audit, invitations, notifications, organizations, tokens
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
    # -- notifications
    path("notifications/channels/", notifications.ChannelListView.as_view(), name="channel_list"),
    path("notifications/channels/add/", notifications.ChannelEditView.as_view(), name="channel_add"),
    path("notifications/channels/<int:pk>/", notifications.ChannelEditView.as_view(), name="channel_edit"),
    path("notifications/channels/<int:pk>/test/", notifications.channel_test_view, name="channel_test"),
    path("notifications/channels/<int:pk>/delete/", notifications.ChannelDeleteView.as_view(), name="channel_delete"),
    path("notifications/routes/", notifications.RouteListView.as_view(), name="route_list"),
    path("notifications/routes/add/", notifications.RouteEditView.as_view(), name="route_add"),
    path("notifications/routes/<int:pk>/", notifications.RouteEditView.as_view(), name="route_edit"),
    path("notifications/routes/<int:pk>/delete/", notifications.RouteDeleteView.as_view(), name="route_delete"),
    path("notifications/silences/", notifications.SilenceListView.as_view(), name="silence_list"),
    path("notifications/silences/add/", notifications.SilenceCreateView.as_view(), name="silence_add"),
    path("notifications/silences/<int:pk>/expire/", notifications.silence_expire_view, name="silence_expire"),
    path("alerts/<int:pk>/", notifications.AlertDetailView.as_view(), name="alert_detail"),
    path("alerts/<int:pk>/acknowledge/", notifications.alert_acknowledge_view, name="alert_acknowledge"),
    path("alerts/ack/<str:token>/", notifications.alert_ack_link, name="alert_ack_link"),
]

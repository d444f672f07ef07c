from django.urls import path
from rest_framework.routers import DefaultRouter

from . import notifications, views

app_name = "portal-api"

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet)
router.register("memberships", views.MembershipViewSet)
router.register("invitations", views.InvitationViewSet)
router.register("audit-events", views.AuditEventViewSet)
router.register("notification-channels", notifications.ChannelViewSet)
router.register("notification-routes", notifications.RouteViewSet)
router.register("silences", notifications.SilenceViewSet)

urlpatterns = [path("me/", views.me, name="me"), *router.urls]

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

app_name = "portal-api"

router = DefaultRouter()
router.register("organizations", views.OrganizationViewSet)
router.register("memberships", views.MembershipViewSet)
router.register("invitations", views.InvitationViewSet)
router.register("audit-events", views.AuditEventViewSet)

urlpatterns = [path("me/", views.me, name="me"), *router.urls]

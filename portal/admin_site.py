from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class PortalAdminSite(admin.AdminSite):
    site_header = "Failover Portal administration"
    site_title = "Failover Portal admin"

    def has_permission(self, request):
        """Platform operators (and staff) may enter; organisation members use the portal itself."""
        user = request.user
        return user.is_active and (user.is_staff or getattr(user, "is_platform_operator", False))


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"

from rest_framework.routers import DefaultRouter

from . import backups, views

app_name = "appliances-api"

router = DefaultRouter()
router.include_root_view = False
router.register("appliances", views.ApplianceViewSet)
router.register("appliance-addresses", views.ApplianceAddressViewSet)
router.register("backups", backups.ConfigurationBackupViewSet)
router.register("appliance-backups", backups.ApplianceBackupViewSet, basename="appliance-backup")
router.register("backup-policies", backups.BackupPolicyViewSet)

urlpatterns = router.urls

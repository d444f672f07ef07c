from rest_framework.routers import DefaultRouter

from .views import adoption as adoption_views
from .views import certificates as certificate_views
from .views import locations as location_views
from .views import operations as operation_views
from .views import pairs as pair_views
from .views import runbooks as runbook_views
from .views import status as status_views

app_name = "failover-api"

router = DefaultRouter()
router.include_root_view = False
# -- status and alerts (read-only)
router.register("appliance-status", status_views.ApplianceStatusViewSet, basename="appliance-status")
router.register("status-changes", status_views.StatusChangeViewSet)
router.register("pair-status", status_views.PairStatusViewSet, basename="pair-status")
router.register("pair-state-changes", status_views.PairStateChangeViewSet)
router.register("alerts", status_views.AlertViewSet)
# -- probe locations: each location's view (isolation included), an organisation's defaults and quorum
router.register("location-status", location_views.LocationStatusViewSet)
router.register("probe-settings", location_views.ProbeSettingsViewSet)
router.register("appliance-probe-locations", location_views.ApplianceProbeLocationsViewSet)

# -- pairs, operations, syncs, backup settings, advice
router.register("pairs", pair_views.PairViewSet)
router.register("pair-adoptions", adoption_views.PairAdoptionViewSet, basename="pair-adoption")
router.register("operations", operation_views.OperationViewSet)
router.register("syncs", operation_views.SyncRecordViewSet)
router.register("backup-settings", operation_views.BackupSettingsViewSet)
router.register("advice", operation_views.AdviceViewSet, basename="advice")
# -- runbooks (started from their pair: POST pairs/{id}/runbooks/), maintenance windows, evacuations
router.register("runbooks", runbook_views.RunbookViewSet, basename="runbook")
router.register("maintenance-windows", runbook_views.MaintenanceWindowViewSet)
router.register("evacuations", runbook_views.EvacuationViewSet)
# -- a pair's certificates (parity, check, replication)
router.register("pair-certificates", certificate_views.PairCertificatesViewSet, basename="pair-certificates")

urlpatterns = router.urls

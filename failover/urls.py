from django.urls import path

from .views import adoption as adoption_views
from .views import advice as advice_views
from .views import alerts as alert_views
from .views import evacuations as evacuation_views
from .views import locations as location_views
from .views import operations as operation_views
from .views import pairs as pair_views
from .views import runbooks as runbook_views
from .views import status as status_views

app_name = "failover"

urlpatterns: list = [
    # -- pairs, operations, backup settings, advice
    path("pairs/", pair_views.PairListView.as_view(), name="pair_list"),
    path("pairs/add/", pair_views.PairEditView.as_view(), name="pair_add"),
    path("pairs/adopt/", adoption_views.pair_adopt_view, name="pair_adopt"),
    path("pairs/adopt/csv/", adoption_views.pair_adopt_csv_view, name="pair_adopt_csv"),
    path("pairs/adopt/csv/<int:pk>/", adoption_views.pair_adoption_status, name="pair_adoption_status"),
    path("pairs/<int:pk>/", pair_views.PairDetailView.as_view(), name="pair"),
    path("pairs/<int:pk>/activity/", pair_views.PairActivityFragmentView.as_view(), name="pair_activity"),
    path("pairs/<int:pk>/edit/", pair_views.PairEditView.as_view(), name="pair_edit"),
    path("pairs/<int:pk>/delete/", pair_views.PairDeleteView.as_view(), name="pair_delete"),
    path("pairs/<int:pk>/establish/", pair_views.PairEstablishView.as_view(), name="pair_establish"),
    path("pairs/<int:pk>/sync/", pair_views.PairSyncView.as_view(), name="pair_sync"),
    path("pairs/<int:pk>/become-primary/", pair_views.PairBecomePrimaryView.as_view(), name="pair_become_primary"),
    path("pairs/<int:pk>/become-backup/", pair_views.PairBecomeBackupView.as_view(), name="pair_become_backup"),
    path("pairs/<int:pk>/fix-conflict/", pair_views.PairFixConflictView.as_view(), name="pair_fix_conflict"),
    path("pairs/<int:pk>/maintenance/", pair_views.PairMaintenanceView.as_view(), name="pair_maintenance"),
    path("pairs/<int:pk>/break/", pair_views.PairBreakView.as_view(), name="pair_break"),
    path("pairs/<int:pk>/shared-ips/", pair_views.PairSharedIpsView.as_view(), name="pair_shared_ips"),
    path("backup-settings/<int:pk>/edit/", pair_views.BackupSettingsEditView.as_view(), name="backup_settings_edit"),
    path("operations/", operation_views.OperationListView.as_view(), name="operation_list"),
    path("operations/<int:pk>/", operation_views.OperationDetailView.as_view(), name="operation"),
    path("operations/<int:pk>/card/", operation_views.OperationRowView.as_view(), name="operation_card"),
    path("operations/<int:pk>/confirm/", operation_views.OperationConfirmView.as_view(), name="operation_confirm"),
    path("operations/<int:pk>/cancel/", operation_views.OperationCancelView.as_view(), name="operation_cancel"),
    # -- runbooks, maintenance windows, drills
    path("pairs/<int:pk>/runbooks/", runbook_views.PairRunbooksView.as_view(), name="pair_runbooks"),
    path("pairs/<int:pk>/runbooks/start/", runbook_views.PairRunbookStartView.as_view(), name="pair_runbook_start"),
    path("pairs/<int:pk>/drills/schedule/", runbook_views.PairDrillScheduleView.as_view(), name="pair_drill_schedule"),
    path("pairs/<int:pk>/windows/", runbook_views.WindowScheduleView.as_view(), name="pair_window_schedule"),
    path("operations/<int:pk>/change-log/", runbook_views.ChangeLogAddView.as_view(), name="operation_change_log"),
    path("maintenance-windows/", runbook_views.WindowListView.as_view(), name="window_list"),
    path("maintenance-windows/<int:pk>/close/", runbook_views.WindowCloseView.as_view(), name="window_close"),
    path("drills/", runbook_views.DrillReportView.as_view(), name="drill_report"),
    path("reports/exposure/", runbook_views.ExposureReportView.as_view(), name="exposure_report"),
    path("evacuations/", evacuation_views.EvacuationListView.as_view(), name="evacuation_list"),
    path("evacuations/<int:pk>/", evacuation_views.EvacuationDetailView.as_view(), name="evacuation"),
    path("evacuations/<int:pk>/progress/", evacuation_views.EvacuationProgressView.as_view(), name="evacuation_progress"),
    path("evacuations/<int:pk>/start/", evacuation_views.EvacuationStartView.as_view(), name="evacuation_start"),
    path("evacuations/<int:pk>/cancel/", evacuation_views.EvacuationCancelView.as_view(), name="evacuation_cancel"),
    path("advice/", advice_views.AdviceListView.as_view(), name="advice_list"),
    # Routes arrive with the pair, probe, operation and alert views.
    # -- status and alerts
    path("alerts/", alert_views.AlertListView.as_view(), name="alert_list"),
    path("appliances/<int:pk>/status/", status_views.ApplianceStatusView.as_view(), name="appliance_status"),
    path("appliances/<int:pk>/status/fragment/", status_views.ApplianceStatusFragmentView.as_view(),
         name="appliance_status_fragment"),
    path("pairs/<int:pk>/status/", status_views.PairStatusView.as_view(), name="pair_status"),
    path("organizations/<int:pk>/probe-locations/", location_views.ProbeSettingsView.as_view(),
         name="probe_settings"),
    path("appliances/<int:pk>/probe-locations/", location_views.ApplianceProbeLocationsView.as_view(),
         name="appliance_probe_locations"),
    path("pairs/<int:pk>/status/fragment/", status_views.PairStatusFragmentView.as_view(), name="status_fragment"),
]

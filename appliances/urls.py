from django.urls import path

from . import views
from .views import backups as backup_views

app_name = "appliances"

urlpatterns = [
    path("", views.ApplianceListView.as_view(), name="appliance_list"),
    path("add/", views.ApplianceEditView.as_view(), name="appliance_add"),
    path("import/", views.appliance_import, name="appliance_import"),
    path("import/<int:pk>/", views.appliance_import_status, name="appliance_import_status"),
    path("export/", views.appliance_export, name="appliance_export"),
    path("<int:pk>/", views.ApplianceDetailView.as_view(), name="appliance"),
    path("<int:pk>/edit/", views.ApplianceEditView.as_view(), name="appliance_edit"),
    path("<int:pk>/delete/", views.ApplianceDeleteView.as_view(), name="appliance_delete"),
    path("<int:pk>/test-connection/", views.ApplianceTestConnectionView.as_view(), name="appliance_test_connection"),
    path("addresses/add/", views.ApplianceAddressEditView.as_view(), name="address_add"),
    path("addresses/<int:pk>/edit/", views.ApplianceAddressEditView.as_view(), name="address_edit"),
    path("addresses/<int:pk>/delete/", views.ApplianceAddressDeleteView.as_view(), name="address_delete"),
    # Configuration backups.
    path("backups/", backup_views.BackupListView.as_view(), name="backup_list"),
    path("backups/<int:pk>/download/", backup_views.BackupDownloadView.as_view(), name="backup_download"),
    path("<int:pk>/backup/", backup_views.BackupRequestView.as_view(), name="backup_request"),
    path("backups/policy/add/", backup_views.BackupPolicyEditView.as_view(), name="backup_policy_add"),
    path("backups/policy/<int:pk>/edit/", backup_views.BackupPolicyEditView.as_view(), name="backup_policy_edit"),
]

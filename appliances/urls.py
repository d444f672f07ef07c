from django.urls import path

from . import views, views_backups, views_rma

app_name = "appliances"

urlpatterns = [
    path("", views.ApplianceListView.as_view(), name="appliance_list"),
    path("add/", views.ApplianceEditView.as_view(), name="appliance_add"),
    path("import/", views.appliance_import, name="appliance_import"),
    path("export/", views.appliance_export, name="appliance_export"),
    path("<int:pk>/", views.ApplianceDetailView.as_view(), name="appliance"),
    path("<int:pk>/edit/", views.ApplianceEditView.as_view(), name="appliance_edit"),
    path("<int:pk>/delete/", views.ApplianceDeleteView.as_view(), name="appliance_delete"),
    path("addresses/add/", views.ApplianceAddressEditView.as_view(), name="address_add"),
    path("addresses/<int:pk>/edit/", views.ApplianceAddressEditView.as_view(), name="address_edit"),
    path("addresses/<int:pk>/delete/", views.ApplianceAddressDeleteView.as_view(), name="address_delete"),
    # Configuration backups.
    path("backups/", views_backups.BackupListView.as_view(), name="backup_list"),
    path("backups/<int:pk>/download/", views_backups.BackupDownloadView.as_view(), name="backup_download"),
    path("<int:pk>/backup/", views_backups.BackupRequestView.as_view(), name="backup_request"),
    path("backups/policy/add/", views_backups.BackupPolicyEditView.as_view(), name="backup_policy_add"),
    path("backups/policy/<int:pk>/edit/", views_backups.BackupPolicyEditView.as_view(), name="backup_policy_edit"),
    # Hardware replacement (RMA) cases.
    path("rma/", views_rma.RmaListView.as_view(), name="rma_list"),
    path("rma/add/", views_rma.RmaOpenView.as_view(), name="rma_add"),
    path("rma/<int:pk>/", views_rma.RmaDetailView.as_view(), name="rma"),
    path("rma/<int:pk>/step/", views_rma.RmaStepView.as_view(), name="rma_step"),
    path("rma/attachments/<int:pk>/", views_rma.RmaAttachmentView.as_view(), name="rma_attachment"),
]

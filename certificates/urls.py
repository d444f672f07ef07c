from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("", views.CertificateListView.as_view(), name="certificate_list"),
    path("import/", views.CertificateImportView.as_view(), name="certificate_import"),
    path("<int:pk>/", views.CertificateDetailView.as_view(), name="certificate"),
    path("<int:pk>/export/", views.CertificateExportView.as_view(), name="certificate_export"),
    path("<int:pk>/default/", views.CertificateSetDefaultView.as_view(), name="certificate_set_default"),
    path("<int:pk>/delete/", views.CertificateDeleteView.as_view(), name="certificate_delete"),
    path("appliances/<int:pk>/", views.ApplianceCertificatesView.as_view(), name="appliance_certificates"),
    path("appliances/<int:pk>/sync/", views.ApplianceSyncView.as_view(), name="appliance_sync"),
    path("appliances/<int:pk>/check/", views.ApplianceCheckView.as_view(), name="appliance_check"),
]

from django.urls import path

from . import views

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
]

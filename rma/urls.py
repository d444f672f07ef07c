from django.urls import path

from . import views

app_name = "rma"

# Mounted under /appliances/rma/ (portal/urls.py): the addresses people and scripts already use.
urlpatterns = [
    path("", views.RmaListView.as_view(), name="case_list"),
    path("add/", views.RmaOpenView.as_view(), name="case_add"),
    path("<int:pk>/", views.RmaDetailView.as_view(), name="case"),
    path("<int:pk>/step/", views.RmaStepView.as_view(), name="case_step"),
    path("attachments/<int:pk>/", views.RmaAttachmentView.as_view(), name="attachment"),
]

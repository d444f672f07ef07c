from django.urls import path

from .views import certificates as views

app_name = "pair_certificates"

# Mounted under /certificates/pairs/ (portal/urls.py): the addresses the pages had when certificates held them.
urlpatterns = [
    path("<int:pk>/", views.PairCertificatesView.as_view(), name="pair"),
    path("<int:pk>/check/", views.PairCheckView.as_view(), name="check"),
]

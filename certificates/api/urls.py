from rest_framework.routers import DefaultRouter

from . import views

app_name = "certificates-api"

router = DefaultRouter()
router.include_root_view = False
router.register("certificates", views.CertificateViewSet)
router.register("served-certificates", views.ServedCertificateViewSet)
router.register("appliance-certificates", views.ApplianceCertificatesViewSet, basename="appliance-certificates")

urlpatterns = router.urls

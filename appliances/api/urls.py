from rest_framework.routers import DefaultRouter

from . import views

app_name = "appliances-api"

router = DefaultRouter()
router.include_root_view = False
router.register("appliances", views.ApplianceViewSet)
router.register("appliance-addresses", views.ApplianceAddressViewSet)

urlpatterns = router.urls

from rest_framework.routers import DefaultRouter

from . import views

app_name = "rma-api"

router = DefaultRouter()
router.include_root_view = False
router.register("rma-cases", views.RmaCaseViewSet)
router.register("rma-attachments", views.RmaAttachmentViewSet)

urlpatterns = router.urls

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from portal.api.docs import SchemaView, SwaggerUIView

from .views.metrics import metrics_view

api_v1 = [
    path("", include("portal.api.urls")),
    path("", include("appliances.api.urls")),
    path("", include("failover.api.urls")),
    path("", include("certificates.api.urls")),
    path("", include("rma.api.urls")),
]

urlpatterns = [
    # Browsers ask for /favicon.ico on pages that name no icon (the Django admin's): no 404 in their console.
    # Lazy: the manifest storage reads its manifest on first use, not when the URLconf is imported.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("portal/favicon.svg"), permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/docs/", SwaggerUIView.as_view(url_name="schema"), name="swagger-ui"),
    # Before appliances/: RMA kept the /appliances/rma/ addresses when it became its own app.
    path("appliances/rma/", include("rma.urls")),
    path("appliances/", include("appliances.urls")),
    path("failover/", include("failover.urls")),
    # Before certificates/: a pair's certificate pages are failover's, at the addresses they always had.
    path("certificates/pairs/", include("failover.certificate_urls")),
    path("certificates/", include("certificates.urls")),
    path("", include("portal.urls_ui")),
]

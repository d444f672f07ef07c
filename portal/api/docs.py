"""The OpenAPI schema and its Swagger UI: for signed-in users (session or token) unless ``API_DOCS_PUBLIC`` opens
them, since the schema lists every route and field an attacker would probe. The UI is drf-spectacular's CSP-safe
variant: its start-up script is a separate request, not an inline block."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import BasePermission


class DocsPermission(BasePermission):
    def has_permission(self, request, view):
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class SchemaView(SpectacularAPIView):
    permission_classes = [DocsPermission]


class SwaggerUIView(SpectacularSwaggerSplitView):
    permission_classes = [DocsPermission]
    # The stock page carries an inline <style> block; this one takes the same rules from a static file.
    template_name = "portal/swagger_ui.html"

    def dispatch(self, request, *args, **kwargs):
        # A person in a browser is sent to sign in rather than shown an API error.
        if not settings.API_DOCS_PUBLIC and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)

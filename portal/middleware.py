from .models import Organization

SESSION_KEY = "current_organization_id"


class CurrentOrganizationMiddleware:
    """Sets ``request.organization`` from the organisation switcher (None: every organisation the user sees)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        organization_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if organization_id and request.user.is_authenticated:
            request.organization = Organization.objects.for_user(request.user).filter(pk=organization_id).first()
            if request.organization is None:
                request.session.pop(SESSION_KEY, None)
        return self.get_response(request)

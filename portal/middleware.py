from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

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


API_PREFIX = "/api/"


def request_body_limit(request) -> int:
    """The largest body the request's route takes: REQUEST_BODY_ROUTE_MAX_BYTES for the routes named there
    (uploads of attachments), REQUEST_BODY_MAX_BYTES for every other."""
    try:
        view_name = resolve(request.path_info).view_name
    except Resolver404:
        view_name = None
    return settings.REQUEST_BODY_ROUTE_MAX_BYTES.get(view_name, settings.REQUEST_BODY_MAX_BYTES)


class RequestBodyLimitMiddleware:
    """Answers 413 to a request that declares a body larger than its route allows, before anything reads it:
    Django's DATA_UPLOAD_MAX_MEMORY_SIZE only counts form fields and lets multipart files stream to disk, so a
    50 MB post to the sign-in page would otherwise be received and parsed. API clients get a JSON error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._refuse(request, 400, "The Content-Length header is not a number.")
        limit = request_body_limit(request)
        if declared > limit:
            return self._refuse(request, 413, f"The request body is larger than {limit} bytes, the most this "
                                              "address accepts.")
        return self.get_response(request)

    @staticmethod
    def _refuse(request, status: int, message: str):
        # The unread body is the server's to discard (gunicorn's sync workers close the connection).
        if request.path_info.startswith(API_PREFIX):
            response = JsonResponse({"detail": message}, status=status)
        else:
            response = HttpResponse(f"<!doctype html><title>Request refused</title><p>{message}</p>", status=status,
                                    content_type="text/html; charset=utf-8")
        # Set here: CommonMiddleware, which would, never sees this response.
        response["Content-Length"] = str(len(response.content))
        return response

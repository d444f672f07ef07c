"""Downloads: one way to send a file to the browser or an API client."""

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme


def safe_filename(name: str, *, fallback: str = "download", max_length: int = 150) -> str:
    """Keep only harmless characters of a name that may come from an appliance or an upload."""
    cleaned = "".join(c for c in name if c.isalnum() or c in "._-").lstrip(".")
    return (cleaned or fallback)[-max_length:]


def attachment_response(content, *, filename: str, content_type: str, private: bool = True):
    """``content`` is bytes/str, or an open file (streamed). Private downloads (secrets, backups, keys) are
    never cached; every download is served as an attachment with sniffing off, so it never renders inline."""
    if hasattr(content, "read"):
        response = FileResponse(content, content_type=content_type)
    else:
        response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, safe_filename(filename))
    response["X-Content-Type-Options"] = "nosniff"
    if private:
        response["Cache-Control"] = "no-store"
    return response


def client_ip(request) -> str:
    """The client's address: the connection's, or behind ``TRUSTED_PROXY_COUNT`` reverse proxies the address the
    outermost of them saw (each proxy appends the address it accepted the connection from to X-Forwarded-For, so
    entries left of that one were written by the client and prove nothing)."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-min(count, len(forwarded))] if forwarded else remote


def posted_next(request, default: str) -> str:
    """Where a form asks to go back to (``next``), when it is a page of this site; else ``default``. One rule:
    "//elsewhere" and "https://elsewhere" are not ours (an open redirect otherwise)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default

"""Downloads: one way to send a file to the browser or an API client."""

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header


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

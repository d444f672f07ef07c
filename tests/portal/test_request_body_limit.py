"""Request bodies are capped before they are read: a declared body larger than the route allows answers 413
at once (JSON under /api/), the RMA attachment routes take their larger cap.

Before, a 50 MB multipart post to the sign-in page was received and parsed, a 200 MB attachment was received and
then refused, and an oversized JSON body answered an HTML page."""

import json
import socket
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from portal.models import Role

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def raw_post(live_server, path: str, content_length: int, content_type: str, body: bytes = b"") -> tuple[int, dict, bytes]:
    """Send only the headers (and ``body``), claiming ``content_length`` bytes: a server that reads the body
    before answering waits for the rest and the socket times out."""
    url = urlsplit(live_server.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {url.hostname}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {content_length}\r\n\r\n".encode() + body
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        while len(rest) < int(headers.get("Content-Length", 0)):
            rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, rest


def test_a_50_mb_multipart_post_to_the_sign_in_page_is_refused_before_it_is_read(live_server):
    status, headers, body = raw_post(live_server, "/login/", 50 * MB, "multipart/form-data; boundary=x")
    assert status == 413
    assert headers["Content-Type"].startswith("text/html")
    assert b"larger than" in body


def test_an_oversized_api_body_gets_a_json_413(live_server):
    status, headers, body = raw_post(live_server, "/api/v1/appliances/", 200 * MB, "application/json", b"{")
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert "larger than" in json.loads(body)["detail"]


def test_json_body_over_the_cap_through_the_client_is_413_json(api_as, org_a, make_member, settings):
    api = api_as(make_member(org_a, Role.ADMIN))
    payload = json.dumps({"name": "x" * (settings.REQUEST_BODY_MAX_BYTES + 1)})
    response = api.post("/api/v1/appliances/", payload, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    # Just under the cap the request reaches the API (and gets its field errors).
    small = api.post("/api/v1/appliances/", json.dumps({"name": "x"}), content_type="application/json")
    assert small.status_code == 400 and "organization" in small.json()


def test_rma_attachment_routes_keep_their_larger_cap(live_server, settings):
    # Larger than the general cap, smaller than the attachment cap: not refused by the middleware (the view then
    # answers as it would to any unauthenticated post), while the same body elsewhere is.
    size = settings.REQUEST_BODY_MAX_BYTES + MB
    assert size < settings.RMA_ATTACHMENT_MAX_BYTES
    step = reverse("rma:case_step", args=[1])
    status, _, _ = raw_post(live_server, step, size, "multipart/form-data; boundary=x", b"x" * size)
    assert status != 413
    status, _, _ = raw_post(live_server, "/appliances/add/", size, "multipart/form-data; boundary=x")
    assert status == 413
    over = settings.RMA_ATTACHMENT_MAX_BYTES + settings.MULTIPART_ENVELOPE_BYTES + 1
    api_step = reverse("rma-api:rmacase-record-step", args=[1])
    status, headers, body = raw_post(live_server, api_step, over, "multipart/form-data; boundary=x")
    assert status == 413 and headers["Content-Type"] == "application/json"


def test_a_content_length_that_is_not_a_number_is_a_bad_request(client):
    response = client.generic("POST", "/login/", b"", CONTENT_LENGTH="lots")
    assert response.status_code == 400


def test_every_route_with_its_own_cap_exists(settings):
    # A renamed route would silently fall back to the general cap.
    for name in settings.REQUEST_BODY_ROUTE_MAX_BYTES:
        assert reverse(name, args=[1])

"""``/metrics`` for Prometheus: a bearer token (METRICS_TOKEN) or a client address inside
METRICS_ALLOWED_NETWORKS. No session, no tenancy: it is the platform's own view of the whole fleet, so it is
closed to everybody else (404, as if it were not there)."""

import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..metrics import registry


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    # REMOTE_ADDR only: behind a proxy, set the networks to the proxy's address or use the token.
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETWORKS)


@require_GET
def metrics_view(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)

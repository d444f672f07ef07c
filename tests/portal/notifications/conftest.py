"""Real receivers on loopback: an HTTP server that records the JSON Apprise posts, and an SMTP server
(aiosmtpd) that records the mail Django's SMTP backend sends."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from failover.alerts import AlertKind
from portal.models import AlertSeverity
from portal.services.alerts import alert_raise
from tests.factories import PairFactory


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.posts: list[dict] = []
        self.fail_next = 0
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length) or b"{}")
        if self.server.fail_next:
            self.server.fail_next -= 1
            self.send_response(503)
        else:
            self.server.posts.append({"path": self.path, **payload})
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    yield server
    server.shutdown()
    server.server_close()


class _Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append({"to": envelope.rcpt_tos, "data": envelope.content.decode("utf-8", "replace")})
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """Django's SMTP backend pointed at a real SMTP server on loopback."""
    mailbox = _Mailbox()
    with socket.socket() as probe:  # a free loopback port (aiosmtpd's readiness check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield mailbox
    controller.stop()


@pytest.fixture
def raise_down():
    """raise_down(pair, now=...) -> the primary-down alert of that pair, as the watch raises it."""

    def make(pair, *, now=None, severity=AlertSeverity.CRITICAL, key=None):
        return alert_raise(organization=pair.organization, kind=AlertKind.PRIMARY_DOWN_COUNTDOWN, severity=severity,
                           dedup_key=key or f"countdown:{pair.pk}:1", subject=f"{pair.site_hostname}: primary down",
                           body="The primary is unreachable.", scope=pair, target=pair.primary, now=now)

    return make


@pytest.fixture
def pairs(org_a):
    org_a.alert_recipients = "noc@example.com"
    org_a.save(update_fields=["alert_recipients"])
    return PairFactory.create_batch(3, organization=org_a)

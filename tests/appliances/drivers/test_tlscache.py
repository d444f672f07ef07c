"""The driver's shared TLS session cache (``tlscache.py``) must never let a session made under one trust
setting stand in for a check under another: resuming a session skips the certificate check, so a session
cached while an appliance was trusted through one CA would otherwise "pass" a different CA or a wrong pin.

libcurl keys its session cache by peer *and* by the CA file, verify flags and pinned key (since 8.12); these
tests prove it against a real TLS server that reports whether each handshake resumed a session."""

from __future__ import annotations

import re
import ssl
import threading

import pycurl
import pytest
from driver_testkit import HEALTH_XML, FakeAppliance, server_context, token_reply, xml_reply

from appliances.drivers import (
    ApplianceAddress,
    ApplianceClient,
    ApplianceTLSError,
    Credentials,
    Timeouts,
    TrustSettings,
    certificate_fingerprint,
    spki_pin,
)

CREDS = Credentials("portal-ro", "s3cret")
#: The first libcurl whose TLS session cache key includes the trust settings (CA, verify flags, pinned key).
MIN_LIBCURL = (8, 12)


class ResumptionAwareAppliance(FakeAppliance):
    """The test kit's HTTPS appliance, counting handshakes that resumed a TLS session."""

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context)
        self.resumed = 0

    def finish_request(self, request, client_address) -> None:
        try:
            request.do_handshake()
        except (OSError, ssl.SSLError):
            return  # the client refused the certificate: what several of these tests expect
        self.handshakes += 1
        self.resumed += bool(request.session_reused)
        super(FakeAppliance, self).finish_request(request, client_address)


@pytest.fixture
def server(pki, tmp_path):
    server = ResumptionAwareAppliance(server_context(pki, tmp_path))
    server.routes["/oauth2/token"] = lambda seen: token_reply()
    server.routes["/api/command"] = lambda seen: xml_reply(HEALTH_XML)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def health(server, token_cache):
    def check(trust: TrustSettings):
        client = ApplianceClient(ApplianceAddress("127.0.0.1", server.port), CREDS, trust,
                                 timeouts=Timeouts(connect=2, total=5), token_cache=token_cache)
        return client.check_health()

    return check


def test_libcurl_is_recent_enough_for_a_trust_aware_session_cache():
    found = re.search(r"libcurl/(\d+)\.(\d+)", pycurl.version)
    assert found and tuple(map(int, found.groups())) >= MIN_LIBCURL, (
        f"{pycurl.version}: libcurl {'.'.join(map(str, MIN_LIBCURL))}+ is needed, older ones may resume a TLS "
        "session across different trust settings")


def test_sessions_are_resumed_under_the_same_trust(pki, server, health):
    trusted = TrustSettings(ca_pem=pki.ca_pem)
    health(trusted)
    health(trusted)
    assert server.resumed >= 1  # the cache works, so the refusals below are not for want of a session


@pytest.mark.parametrize("other", ["other_ca", "wrong_spki_pin", "wrong_fingerprint"])
def test_a_cached_session_does_not_pass_a_different_trust(pki, server, health, other):
    health(TrustSettings(ca_pem=pki.ca_pem))
    health(TrustSettings(ca_pem=pki.ca_pem))
    assert server.resumed >= 1
    different = {
        "other_ca": TrustSettings(ca_pem=pki.other_ca_pem),
        "wrong_spki_pin": TrustSettings(ca_pem=pki.ca_pem, pin=spki_pin(pki.other_ca_pem)),
        "wrong_fingerprint": TrustSettings(pin=certificate_fingerprint(pki.other_ca_pem)),
    }[other]
    with pytest.raises(ApplianceTLSError):
        health(different)


def test_a_session_cached_under_a_pin_does_not_pass_an_untrusted_ca(pki, server, health):
    good_pin = TrustSettings(pin=spki_pin(pki.cert_pem))
    health(good_pin)
    health(good_pin)
    with pytest.raises(ApplianceTLSError):
        health(TrustSettings(ca_pem=pki.other_ca_pem))

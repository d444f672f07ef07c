"""Reading the served certificate from a real TLS server on 127.0.0.1 that varies its certificate by SNI."""

import socket
import ssl
import threading

import pytest

from certificates.crypto import (
    ServedCertificateError,
    compare_served,
    fetch_served_certificate,
    parse_certificate,
)
from certificates.crypto.generate import make_leaf, make_self_signed
from tests.certificates.crypto.helpers import NOW

SNI_NAME = "site.example.test"


class SniServer:
    """Serves ``default`` to clients without SNI (or an unknown name) and ``named`` for ``SNI_NAME``."""

    def __init__(self, tmp_path, default, named):
        self.default_ctx = self._context(tmp_path / "default", default)
        self.named_ctx = self._context(tmp_path / "named", named)
        self.default_ctx.sni_callback = self._pick
        self.seen_names = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _context(base, issued):
        cert, key = base.with_suffix(".crt"), base.with_suffix(".key")
        cert.write_bytes(issued.cert_pem)
        key.write_bytes(issued.key_pem)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        return ctx

    def _pick(self, tls_socket, server_name, _ctx):
        self.seen_names.append(server_name)
        if server_name == SNI_NAME:
            tls_socket.context = self.named_ctx

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # listener closed
            with conn:
                try:
                    with self.default_ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(1)  # wait until the client hangs up
                except (ssl.SSLError, OSError):
                    pass

    def close(self):
        # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def certs(intermediate):
    default = make_self_signed("default.appliance.local", now=NOW)
    named = make_leaf(intermediate, SNI_NAME, now=NOW)
    return default, named


@pytest.fixture
def server(tmp_path, certs):
    srv = SniServer(tmp_path, *certs)
    yield srv
    srv.close()


def test_without_sni_the_default_certificate_is_served(server, certs):
    served = fetch_served_certificate("127.0.0.1", server.port)
    assert served.fingerprint_sha256 == parse_certificate(certs[0].certificate).fingerprint_sha256
    assert served.is_self_signed  # read although it would never verify
    assert server.seen_names == [None]


def test_with_sni_the_named_certificate_is_served(server, certs):
    served = fetch_served_certificate("127.0.0.1", server.port, server_name=SNI_NAME)
    assert served.fingerprint_sha256 == parse_certificate(certs[1].certificate).fingerprint_sha256
    assert served.dns_names == (SNI_NAME,)  # issuer not trusted by the client: still read
    assert server.seen_names == [SNI_NAME]


def test_unknown_sni_gets_the_default(server, certs):
    served = fetch_served_certificate("127.0.0.1", server.port, server_name="nobody.example.test")
    assert served.fingerprint_sha256 == parse_certificate(certs[0].certificate).fingerprint_sha256


UNREADABLE = ("No TLS certificate could be read from 127.0.0.1:{port} (no answer, connection refused or not a TLS "
              "service).")


def test_connection_refused_is_a_typed_error():
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServedCertificateError) as error:
        fetch_served_certificate("127.0.0.1", port, timeout=2)
    assert error.value.message == UNREADABLE.format(port=port)


def test_non_tls_endpoint_is_a_typed_error():
    listener = socket.create_server(("127.0.0.1", 0))

    def answer_in_plain_text():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=answer_in_plain_text, daemon=True)
    thread.start()
    try:
        with pytest.raises(ServedCertificateError) as error:
            fetch_served_certificate("127.0.0.1", listener.getsockname()[1], timeout=2)
        assert error.value.message == UNREADABLE.format(port=listener.getsockname()[1])
    finally:
        thread.join(timeout=5)
        listener.close()


def test_timeout_is_a_typed_error():
    with (
        socket.create_server(("127.0.0.1", 0)) as silent,  # accepts (backlog) but never speaks TLS
        pytest.raises(ServedCertificateError) as error,
    ):
        port = silent.getsockname()[1]
        fetch_served_certificate("127.0.0.1", port, timeout=0.3)
    # Refused, silent and not-TLS read the same: the check is no port scanner.
    assert error.value.message == UNREADABLE.format(port=port)


def test_compare_served(certs, leaf):
    default, named = (parse_certificate(c.certificate) for c in certs)
    same = compare_served(named, named)
    assert same.match and same.primary_fingerprint == same.backup_fingerprint == named.fingerprint_sha256
    different = compare_served(named, default)
    assert not different.match and "Export the certificate from the primary" in different.reason
    assert (different.primary_fingerprint, different.backup_fingerprint) == (
        named.fingerprint_sha256, default.fingerprint_sha256)
    missing = compare_served(named, None)
    assert not missing.match and missing.backup_fingerprint is None and "backup" in missing.reason


def test_compare_served_same_key_different_certificate(intermediate, certs):
    _default, named = certs
    renewed = make_leaf(intermediate, SNI_NAME, key=named.key, now=NOW)
    result = compare_served(parse_certificate(named.certificate), parse_certificate(renewed.certificate))
    assert not result.match and "same key" in result.reason

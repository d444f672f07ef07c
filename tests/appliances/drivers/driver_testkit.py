"""Test kit for the driver tests: a throw-away PKI and a tiny scriptable HTTPS server on 127.0.0.1.

The server exists to serve *hostile* answers (XML bombs, 50 MB bodies, wrong content types...) and to
record what the client sent; behaviour of a real appliance is covered by test_contract.py against the
simulator. (Module name is specific because test directories without __init__.py share sys.path.)
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Pki:
    ca_pem: str
    cert_pem: str
    key_pem: str
    other_ca_pem: str  # a CA that did not issue the server certificate


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _make_ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_pki() -> Pki:
    ca_key, ca_cert = _make_ca("Driver Test CA")
    _, other_ca = _make_ca("Some Other CA")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        # IP SAN only: connecting as "localhost" must fail name verification.
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return Pki(ca_pem=_pem(ca_cert), cert_pem=_pem(cert), key_pem=key_pem, other_ca_pem=_pem(other_ca))


@dataclass
class Reply:
    status: int = 200
    body: bytes | Iterable[bytes] = b""
    content_type: str | None = "text/xml; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)
    # False: stream with chunked encoding, no Content-Length (the size is unknown to the client upfront).
    content_length: bool = True


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


Route = Callable[[Seen], Reply]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeAppliance

    def _serve(self) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            params.update(parse_qsl(self.rfile.read(length).decode()))
        seen = Seen(self.command, url.path, params, {k.lower(): v for k, v in self.headers.items()})
        self.server.seen.append(seen)
        route = self.server.routes.get(url.path)
        reply = route(seen) if route else Reply(404, b"not found", "text/plain")
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        if isinstance(reply.body, bytes):
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        chunks = reply.body
        if reply.content_length:
            raise AssertionError("streamed replies are sent chunked")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = _serve

    def log_message(self, *args) -> None:  # keep test output clean
        pass


class FakeAppliance(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.handshakes = 0

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address) -> None:
        try:
            request.do_handshake()
            self.handshakes += 1
            super().finish_request(request, client_address)
        except (OSError, ssl.SSLError):
            pass  # client aborted (pin mismatch, size cap...): expected in these tests

    def handle_error(self, request, client_address) -> None:
        pass

    @property
    def port(self) -> int:
        return self.server_address[1]

    def count(self, path: str) -> int:
        return sum(1 for s in self.seen if s.path == path)


def server_context(pki: Pki, tmp_path: Path) -> ssl.SSLContext:
    (tmp_path / "cert.pem").write_text(pki.cert_pem)
    (tmp_path / "key.pem").write_text(pki.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


NS = "https://www.beyondtrust.com/namespaces/API/command"

HEALTH_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<health_check xmlns="{NS}">
  <appliance id="50adeb59f0f04163b09b7591af1949ea">bt-primary.example.com</appliance>
  <version>24.3.1 (41234-0123abcd)</version>
  <success>1</success>
  <failover_role>primary</failover_role>
  <enabled_shared_ips><ip>192.0.2.10</ip></enabled_shared_ips>
  <last_data_sync_time ts="1732531200">2024-11-25T10:40:00+00:00</last_data_sync_time>
  <last_data_sync_status>Success</last_data_sync_status>
</health_check>""".encode()


def token_reply(token: str = "tok-1", expires_in: int = 3600) -> Reply:
    body = json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": expires_in}).encode()
    return Reply(200, body, "application/json")


def xml_reply(body: bytes | str, status: int = 200) -> Reply:
    return Reply(status, body.encode() if isinstance(body, str) else body)

XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<health_check><error_message>&lol4;</error_message></health_check>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE health_check [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<health_check><appliance id="x">&xxe;</appliance></health_check>
"""

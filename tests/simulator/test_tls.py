"""Served certificates: simulator CA, SNI selection of imported certificates, session resumption."""

import socket
import ssl

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from simulator.pki import CertificateAuthority

from .helpers import client, single


def served_certificate(sim, address, server_name, cafile=None):
    context = ssl.create_default_context(cafile=str(cafile or sim.ca_path))
    context.check_hostname = False
    with socket.create_connection((address, sim.port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=server_name) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def sans(cert):
    ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    return set(ext.get_values_for_type(x509.DNSName)) | {str(i) for i in ext.get_values_for_type(x509.IPAddress)}


def test_default_certificate_covers_address_and_hostname(fresh_simulator):
    target = single(fresh_simulator)
    # Verified by hostname (SNI) and by IP address (no SNI) against ca.pem.
    assert client(fresh_simulator, target["name"]).request("GET", "/check_health")[0] == 200
    assert client(fresh_simulator, target["name"], server_name="").request("GET", "/check_health")[0] == 200
    cert = served_certificate(fresh_simulator, target["address"], target["hostname"])
    assert sans(cert) == {target["hostname"], target["address"]}


def test_imported_certificate_is_served_for_matching_sni_only(fresh_simulator, tmp_path):
    target = single(fresh_simulator)
    site_ca = CertificateAuthority.create("Site CA")
    (tmp_path / "site-ca.pem").write_text(site_ca.cert_pem)
    site = site_ca.issue("support.example.test", ["support.example.test", "*.example.test"], [])
    api = client(fresh_simulator, target["name"])
    root = api.command("x_import_certificate", method="POST", certificate=site.cert_pem + site.chain_pem,
                       private_key=site.key_pem, friendly_name="site")
    assert root.tag == "x_import_certificate", root.text
    imported = served_certificate(fresh_simulator, target["address"], "support.example.test", tmp_path / "site-ca.pem")
    assert "support.example.test" in sans(imported)
    wildcard = served_certificate(fresh_simulator, target["address"], "other.example.test", tmp_path / "site-ca.pem")
    assert wildcard.fingerprint(wildcard.signature_hash_algorithm) == imported.fingerprint(imported.signature_hash_algorithm)
    # No SNI and an unmatched SNI get the default certificate.
    for name in (None, "nothing.invalid"):
        default = served_certificate(fresh_simulator, target["address"], name)
        assert target["hostname"] in sans(default)

    listed = api.command("x_get_certificates").find("certificate_list")
    ids = {c.find("friendly_name").text: c.find("id").text for c in listed}
    assert set(ids) >= {"site"}
    api.command("x_set_default_certificate", id=ids["site"])
    default = served_certificate(fresh_simulator, target["address"], None, tmp_path / "site-ca.pem")
    assert "support.example.test" in sans(default)


def test_control_api_replaces_the_default_certificate(fresh_simulator, tmp_path):
    target = single(fresh_simulator)
    other_ca = CertificateAuthority.create("Replacement CA")
    (tmp_path / "ca.pem").write_text(other_ca.cert_pem)
    cert = other_ca.issue(target["hostname"], [target["hostname"]], [target["address"]])
    fresh_simulator.replace_certificate(target["address"], cert.cert_pem, cert.key_pem, cert.chain_pem)
    assert client(fresh_simulator, target["name"], cafile=tmp_path / "ca.pem").request("GET", "/check_health")[0] == 200
    fresh_simulator.reset()
    assert client(fresh_simulator, target["name"]).request("GET", "/check_health")[0] == 200


def test_tls_sessions_can_be_resumed(fresh_simulator):
    target = single(fresh_simulator)
    context = ssl.create_default_context(cafile=str(fresh_simulator.ca_path))
    session = None
    reused = []
    for _ in range(3):
        with socket.create_connection((target["address"], fresh_simulator.port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=target["hostname"], session=session) as tls:
            tls.sendall(b"GET /check_health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert tls.recv(64).startswith(b"HTTP/1.1 200")
            while tls.recv(4096):
                pass
            reused.append(tls.session_reused)
            session = tls.session
    assert reused[0] is False and reused[-1] is True

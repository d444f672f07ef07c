"""Each warning raised and not raised, in the context the inventory gives it (the appliance's names, its pair,
the default choice), and shown in the list, on the certificate page and over REST."""

from datetime import timedelta

import pytest

from certificates.crypto import generate
from certificates.selectors import certificate_list, certificate_warnings
from tests.factories import ApplianceFactory, CertificateFactory, PairFactory
from tests.factories.certificates import factory_ca

pytestmark = pytest.mark.django_db

SITE = "access.example.com"


@pytest.fixture
def appliance(org_a):
    return ApplianceFactory(organization=org_a, site_hostname=SITE, management_host="127.2.9.9")


def codes(certificate, user=None):
    if user is not None:  # read back through the list selector, as the pages do
        certificate = certificate_list(user=user).get(pk=certificate.pk)
    return {w.code.value for w in certificate_warnings(certificate)}


def good(appliance, **kwargs):
    return CertificateFactory(appliance=appliance, issued=generate.make_leaf(factory_ca(), SITE),
                              chain=[factory_ca()], **kwargs)


def test_a_good_certificate_has_no_warning(appliance):
    assert codes(good(appliance)) == set()


def test_expired(appliance):
    assert "expired" in codes(CertificateFactory(appliance=appliance, issued=generate.make_expired(factory_ca(), SITE),
                                                 chain=[factory_ca()]))


def test_expiring_within_the_threshold_and_not_beyond(appliance, settings):
    soon = CertificateFactory(appliance=appliance, chain=[factory_ca()],
                              issued=generate.make_leaf(factory_ca(), SITE, valid_for=timedelta(days=11)))
    assert "expiring" in codes(soon)
    settings.CERTIFICATE_EXPIRY_WARNING_DAYS = 5
    assert "expiring" not in codes(soon)


def test_self_signed(appliance):
    assert "self_signed" in codes(CertificateFactory(appliance=appliance, issued=generate.make_self_signed(SITE)))
    assert "self_signed" not in codes(good(appliance))


def test_no_supported_names(appliance):
    bare = generate.make_leaf(factory_ca(), SITE, dns_names=[])
    assert "no_san" in codes(CertificateFactory(appliance=appliance, issued=bare, chain=[factory_ca()]))


def test_names_matching_neither_site_nor_appliance(appliance):
    other = generate.make_leaf(factory_ca(), "other.example.org")
    assert "name_mismatch" in codes(CertificateFactory(appliance=appliance, issued=other, chain=[factory_ca()]))
    assert "name_mismatch" not in codes(good(appliance))


def test_pair_site_name_counts_for_paired_appliances(org_a, make_member, appliance):
    """In a pair the certificate must cover the pair's site name (or the appliance's own name)."""
    viewer = make_member(org_a)
    PairFactory(organization=org_a, primary=appliance, site_hostname="pair.example.net")
    pair_cert = CertificateFactory(appliance=appliance, chain=[factory_ca()],
                                   issued=generate.make_leaf(factory_ca(), "pair.example.net"))
    stranger = CertificateFactory(appliance=appliance, chain=[factory_ca()],
                                  issued=generate.make_leaf(factory_ca(), "stranger.example.net"))
    assert "name_mismatch" not in codes(pair_cert, viewer)
    assert "name_mismatch" in codes(stranger, viewer)


def test_weak_key(appliance):
    weak = generate.make_leaf(factory_ca(), SITE, key=generate.new_key("rsa", 1024))
    assert "weak_key" in codes(CertificateFactory(appliance=appliance, issued=weak, chain=[factory_ca()]))
    assert "weak_key" not in codes(good(appliance))


def test_incomplete_chain(appliance):
    leaf = generate.make_leaf(factory_ca(), SITE)
    assert "incomplete_chain" in codes(CertificateFactory(appliance=appliance, issued=leaf, chain=[]))
    assert "incomplete_chain" not in codes(good(appliance))


def test_lets_encrypt_only_on_an_appliance_in_a_pair(org_a, make_member, appliance):
    viewer = make_member(org_a)
    _, intermediate = generate.make_lets_encrypt_chain()
    issued = generate.make_leaf(intermediate, SITE)
    certificate = CertificateFactory(appliance=appliance, issued=issued, chain=[intermediate])
    assert "lets_encrypt_in_pair" not in codes(certificate, viewer)
    PairFactory(organization=org_a, primary=appliance, site_hostname=SITE)
    assert "lets_encrypt_in_pair" in codes(certificate, viewer)


def test_default_certificate_self_signed_or_factory(appliance):
    assert "default_self_signed" in codes(
        CertificateFactory(appliance=appliance, issued=generate.make_self_signed(SITE), is_default=True))
    assert "default_self_signed" not in codes(
        CertificateFactory(appliance=appliance, issued=generate.make_self_signed(SITE), is_default=False))
    assert "default_factory" in codes(good(appliance, is_default=True, is_factory=True))
    assert "default_factory" not in codes(good(appliance, is_default=True))


def test_warnings_show_in_the_list_on_the_page_and_over_rest(org_a, make_member, appliance, login, api_as):
    viewer = make_member(org_a)
    expired = CertificateFactory(appliance=appliance, issued=generate.make_expired(factory_ca(), SITE),
                                 chain=[factory_ca()])
    fine = good(appliance)
    client = login(viewer)
    listing = client.get("/certificates/").content.decode()
    assert 'data-warning="expired"' in listing
    page = client.get(f"/certificates/{expired.pk}/").content.decode()
    assert 'data-warning="expired"' in page and "expired on" in page
    assert 'data-warning' not in client.get(f"/certificates/{fine.pk}/").content.decode()
    body = api_as(viewer).get("/api/v1/certificates/").json()
    warnings = {row["id"]: [w["code"] for w in row["warnings"]] for row in body["results"]}
    assert warnings == {expired.pk: ["expired"], fine.pk: []}

"""The outbound address policy: what the portal may connect to on an organisation's behalf, checked when a host
is saved and again right before connecting."""

import pytest

from appliances.connect import appliance_client
from appliances.drivers import ApplianceUnreachable
from certificates.services.parity import served_refresh
from failover.swing import SwingError
from failover.swing.dns import DnsSwing
from failover.swing.nat import NatSwing
from portal.models import Role
from tests.factories import ApplianceFactory
from tests.factories.failover import PairFactory

pytestmark = pytest.mark.django_db

PIN = "ab" * 32


@pytest.fixture
def admin(org_a, make_member):
    return make_member(org_a, Role.ADMIN)


@pytest.fixture
def no_loopback(settings):
    """Production's default: loopback is the portal's own machine."""
    settings.OUTBOUND_ALLOW_LOOPBACK = False


def _appliance(api, org, host):
    return api.post("/api/v1/appliances/", {"organization": org.pk, "name": f"edge-{host}", "management_host": host,
                                            "tls_pin": PIN}, format="json")


@pytest.mark.parametrize("host", ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254", "100.100.100.200",
                                  "224.0.0.1", "0.0.0.0"])
def test_link_local_metadata_and_multicast_hosts_are_refused_when_saved(org_a, admin, api_as, host):
    response = _appliance(api_as(admin), org_a, host)
    assert response.status_code == 400
    assert "never connects to" in response.json()["management_host"][0]


def test_loopback_is_refused_in_production_and_allowed_in_tests(org_a, admin, api_as, settings):
    api = api_as(admin)
    assert _appliance(api, org_a, "127.0.0.9").status_code == 201  # the tests' (and development's) default
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    for host in ("127.0.0.10", "localhost", "::1"):
        assert _appliance(api, org_a, host).status_code == 400, host


def test_an_organisations_allowed_networks_replace_the_platform_default(org_a, admin, api_as, platform_operator):
    api = api_as(admin)
    # Only platform operators set the list: an organisation admin's change is ignored.
    api.patch(f"/api/v1/organizations/{org_a.pk}/", {"outbound_allowed_networks": "0.0.0.0/0"}, format="json")
    operator = api_as(platform_operator)
    bad = operator.patch(f"/api/v1/organizations/{org_a.pk}/", {"outbound_allowed_networks": "10.0.0.0/8\nnope"},
                         format="json")
    assert bad.status_code == 400 and "“nope” is not a network" in bad.json()["outbound_allowed_networks"][0]
    assert operator.patch(f"/api/v1/organizations/{org_a.pk}/", {"outbound_allowed_networks": "10.0.0.0/8"},
                          format="json").status_code == 200
    refused = _appliance(api, org_a, "192.0.2.10")
    assert refused.status_code == 400 and "outside the networks" in refused.json()["management_host"][0]
    assert _appliance(api, org_a, "10.1.2.3").status_code == 201
    # The deny list holds whatever an organisation allows.
    operator.patch(f"/api/v1/organizations/{org_a.pk}/", {"outbound_allowed_networks": "0.0.0.0/0"}, format="json")
    assert _appliance(api, org_a, "169.254.169.254").status_code == 400


def test_a_name_is_resolved_and_checked_before_connecting(org_a, no_loopback):
    # Saved before the policy (or pointing elsewhere then): "localhost" now resolves into a denied network.
    appliance = ApplianceFactory(organization=org_a, management_host="localhost", client_id="c", client_secret="s")
    with pytest.raises(ApplianceUnreachable, match="not connecting: 127.0.0.1 is in a network"):
        appliance_client(appliance).check_health()


def test_the_served_certificate_check_is_held_to_the_policy(org_a, no_loopback):
    appliance = ApplianceFactory(organization=org_a, management_host="127.0.0.1")
    observations = served_refresh(appliance=appliance)
    assert observations and all(o.error.startswith("Not connecting: 127.0.0.1") for o in observations)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("dns_server", "not a host!!", "neither a host name nor an IP address"),
        ("dns_server", "169.254.169.254", "never connects to"),
        ("backup_host", "<b>", "neither a host name nor an IP address"),
        ("reverse_host", "a b", "neither a host name nor an IP address"),
        ("dns_tsig_secret", "not base64!", "base64"),
        ("dns_tsig_algorithm", "hmac-sha3000", "not a valid choice"),
        ("nat_device", "https://169.254.169.254:8443", "never connects to"),
    ],
)
def test_swing_settings_that_would_fail_during_a_failover_are_refused_when_saved(org_a, admin, api_as, field, value,
                                                                               message):
    pair = PairFactory(organization=org_a)
    response = api_as(admin).patch(f"/api/v1/pairs/{pair.pk}/", {field: value}, format="json")
    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()[field])


def test_the_dns_and_nat_swings_check_their_server_before_sending(org_a, no_loopback):
    pair = PairFactory.build(organization=org_a, dns_server="localhost", dns_port=53, nat_device="https://localhost:8443",
                             nat_public_address="192.0.2.80")
    with pytest.raises(SwingError, match="Not sending to the DNS server localhost: 127.0.0.1 is in a network"):
        DnsSwing()._server(pair)
    with pytest.raises(SwingError, match="Not calling the NAT device"):
        NatSwing().translation(pair)


def test_the_rma_network_step_checks_the_typed_host_before_connecting(org_a, admin, api_as, monkeypatch):
    from rma import services as rma
    from tests.factories import RmaCaseFactory

    def never(*args, **kwargs):
        raise AssertionError("connected before validating")

    monkeypatch.setattr(rma, "client_for", never)
    case = RmaCaseFactory(appliance=ApplianceFactory(organization=org_a), organization=org_a)
    case.steps.filter(key="received").update(state="done")
    response = api_as(admin).post(f"/api/v1/rma-cases/{case.pk}/record-step/", {
        "step": "network", "management_host": "169.254.169.254", "management_port": 443, "tls_pin": PIN,
        "client_id": "portal", "client_secret": "secret"}, format="json")
    assert response.status_code == 400, response.content
    assert "never connects to" in str(response.json())



def test_a_name_is_resolved_once_per_cache_period_and_checked_every_time(org_a, settings, monkeypatch):
    """The probe loop checks the policy before every probe: the lookup is reused, the check is not."""
    import socket

    from portal import netpolicy

    lookups = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):
        lookups.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(netpolicy.socket, "getaddrinfo", counting)
    netpolicy._resolved.clear()
    settings.OUTBOUND_DNS_CACHE_SECONDS = 60
    assert netpolicy.resolve_allowed("localhost", 443, org_a) in ("127.0.0.1", "::1")
    assert netpolicy.resolve_allowed("LOCALHOST", 443, org_a) in ("127.0.0.1", "::1")
    assert lookups == ["localhost"]
    settings.OUTBOUND_ALLOW_LOOPBACK = False  # the policy still applies to a cached answer
    with pytest.raises(netpolicy.OutboundRefused):
        netpolicy.resolve_allowed("localhost", 443, org_a)
    settings.OUTBOUND_ALLOW_LOOPBACK, settings.OUTBOUND_DNS_CACHE_SECONDS = True, 0
    netpolicy.resolve_allowed("localhost", 443, org_a)
    assert lookups == ["localhost", "localhost"]

"""Contract tests: the driver against the real simulator process (simulator/testing.py).

Every standard action, every extension action and every documented failure mode, through real TLS on
127.x loopback addresses. Fleet: one organisation, four pairs, one single appliance (conftest_simulator).
"""

from __future__ import annotations

import io
import time

import pytest
from driver_testkit import make_pki

from appliances.drivers import (
    STANDARD_ACTIONS,
    ApplianceAddress,
    ApplianceAuthError,
    ApplianceClient,
    ApplianceProtocolError,
    ApplianceRefused,
    ApplianceTimeout,
    ApplianceTLSError,
    ApplianceUnreachable,
    Credentials,
    FailoverRole,
    InMemoryTokenCache,
    ProbeTarget,
    Timeouts,
    TrustSettings,
    probe_many,
)

EXTENSIONS = {
    "x_get_capabilities", "x_establish_relationship", "x_break_relationship", "x_sync_now", "x_get_sync_status",
    "x_get_backup_settings", "x_set_backup_settings", "x_set_shared_ips", "x_get_key_fingerprint",
    "x_get_certificates", "x_import_certificate", "x_set_default_certificate",
}


@pytest.fixture
def token_cache():
    return InMemoryTokenCache()


@pytest.fixture
def connect(sim, token_cache):
    """connect(name_or_address, account="full"|"read_only", trust=None, timeouts=None) -> ApplianceClient."""
    ca_pem = sim.ca_path.read_text()

    def make(appliance: str, *, account: str = "full", trust: TrustSettings | None = None,
             timeouts: Timeouts | None = None, secret: str | None = None) -> ApplianceClient:
        spec = sim.appliance(appliance)
        if account == "full":
            client_id, client_secret = spec["client_id"], spec["client_secret"]
        else:
            extra = next(a for a in spec["extra_accounts"] if a["perm_command"] == account)
            client_id, client_secret = extra["client_id"], extra["client_secret"]
        return ApplianceClient(
            ApplianceAddress(spec["address"], sim.port), Credentials(client_id, secret or client_secret),
            trust or TrustSettings(ca_pem=ca_pem), timeouts=timeouts or Timeouts(connect=2, total=5),
            token_cache=token_cache,
        )
    return make


@pytest.fixture
def pair(sim):
    primary, backup = sim.pairs()[0]
    return primary["name"], backup["name"]


@pytest.fixture
def single(sim):
    paired = {a["name"] for p in sim.pairs() for a in p}
    return next(a["name"] for a in sim.appliances() if a["name"] not in paired)


def wait_for_role(client: ApplianceClient, role: FailoverRole, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while client.check_health().failover_role is not role:
        assert time.monotonic() < deadline, f"{client.address} never became {role}"
        time.sleep(0.05)


# -- standard actions ------------------------------------------------------------------------------

def test_check_health_of_pair_and_single(sim, connect, pair, single):
    primary, backup = (connect(name).check_health() for name in pair)
    spec = sim.appliance(pair[0])
    assert (primary.appliance_id, primary.hostname) == (spec["guid"], spec["hostname"])
    assert (primary.version, primary.build) == (spec["version"], spec["build"])
    assert primary.success and primary.error_message is None
    assert (primary.failover_role, backup.failover_role) == (FailoverRole.PRIMARY, FailoverRole.BACKUP)
    assert primary.latency_ms > 0
    alone = connect(single).check_health()
    assert alone.failover_role is FailoverRole.NONE
    assert alone.enabled_shared_ips == [] and alone.last_data_sync_at is None


def test_unhealthy_appliance(sim, connect, pair):
    sim.set_fault(sim.appliance(pair[0])["address"], "unhealthy", message="Disk full")
    report = connect(pair[0]).check_health()
    assert not report.success and report.error_message == "Disk full"
    plain = connect(pair[0]).plain_check_health()
    assert (plain.passed, plain.status_code) == (False, 500)
    assert connect(pair[1]).plain_check_health().passed


def test_get_api_info_reports_permissions(connect, pair):
    full = connect(pair[0]).get_api_info()
    assert full.api_version and full.command_access == "full_access" and full.can_backup
    assert abs(full.timestamp.timestamp() - time.time()) < 60
    read_only = connect(pair[0], account="read_only").get_api_info()
    assert read_only.command_access == "read_only" and not read_only.can_backup


def test_get_appliances_lists_both_members(sim, connect, pair):
    listing = connect(pair[0]).get_appliances()
    guids = {sim.appliance(name)["guid"] for name in pair}
    assert {a.appliance_id for a in listing.appliances} == guids
    assert {a.failover_role for a in listing.appliances} == {FailoverRole.PRIMARY, FailoverRole.BACKUP}


def test_role_swap_without_sync(connect, pair):
    result = connect(pair[1]).set_failover_role("primary")
    assert result.message == "Successfully changed role." and not result.pending_data_sync
    wait_for_role(connect(pair[1]), FailoverRole.PRIMARY)
    wait_for_role(connect(pair[0]), FailoverRole.BACKUP)


def test_role_swap_with_data_sync_first(connect, pair):
    result = connect(pair[1]).set_failover_role(FailoverRole.PRIMARY, data_sync_first=True)
    assert result.pending_data_sync and "data sync" in result.message
    wait_for_role(connect(pair[1]), FailoverRole.PRIMARY)


def test_role_change_refusals(sim, connect, pair, single):
    with pytest.raises(ApplianceRefused, match="not configured"):
        connect(single).set_failover_role("primary")
    with pytest.raises(ApplianceAuthError, match="Access denied"):
        connect(pair[0], account="read_only").set_failover_role("backup")
    sim.set_fault(sim.appliance(pair[1])["address"], "down")
    with pytest.raises(ApplianceRefused, match="Use force"):
        connect(pair[0]).set_failover_role("backup")
    assert connect(pair[0]).set_failover_role("backup", force=True).message == "Successfully changed role."


def test_backup_download(sim, connect, pair):
    sink = io.BytesIO()
    download = connect(pair[0]).download_backup(sink)
    assert download.bytes_written == len(sink.getvalue()) > 0
    assert download.filename.endswith(".nsb")
    with pytest.raises(ApplianceAuthError, match="backup permission"):
        connect(pair[0], account="read_only").download_backup(io.BytesIO())
    with pytest.raises(ApplianceProtocolError, match="limit"):
        connect(pair[0]).download_backup(io.BytesIO(), max_bytes=100)


# -- extension actions -----------------------------------------------------------------------------

def test_capabilities(connect, pair):
    capabilities = connect(pair[0]).get_capabilities()
    assert capabilities.extensions_reported
    assert capabilities.actions == STANDARD_ACTIONS | EXTENSIONS
    assert capabilities.details.get("simulator") == "1"


def test_unknown_extension_is_refused(connect, pair):
    with pytest.raises(ApplianceRefused, match="Invalid action"):
        connect(pair[0]).call_extension("x_no_such_thing")


def test_sync_now_and_sync_status(connect, pair):
    backup = connect(pair[1])
    assert backup.sync_now().message == "Data sync started."
    deadline = time.monotonic() + 10
    while (status := backup.get_sync_status()).last_data_sync_at is None or status.sync_in_progress:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status.failover_role is FailoverRole.BACKUP and status.peer_reachable
    assert status.history and status.last_data_sync_status
    assert backup.check_health().last_data_sync_at is not None


def test_backup_settings_round_trip(connect, pair):
    client = connect(pair[1])
    before = client.get_backup_settings()
    after = client.set_backup_settings(automatic_failover=not before.automatic_failover, primary_timeout=120,
                                       connectivity_test_ips=["192.0.2.1", "192.0.2.2"])
    assert after.automatic_failover is not before.automatic_failover
    assert (after.primary_timeout, after.connectivity_test_ips) == (120, ["192.0.2.1", "192.0.2.2"])
    assert after.sync_interval == before.sync_interval  # untouched settings are left alone
    assert client.get_backup_settings() == after
    with pytest.raises(ApplianceRefused, match="negative"):
        client.set_backup_settings(bandwidth_limit=-1)


def test_pair_members_share_the_key_fingerprint(connect, pair, single):
    first, second = (connect(name).get_key_fingerprint() for name in pair)
    assert first == second and len(first.fingerprint) >= 32
    assert connect(single).get_key_fingerprint() != first


def test_break_and_establish_relationship(sim, connect, pair):
    primary, backup = connect(pair[0]), connect(pair[1])
    assert primary.break_relationship().message == "Failover relationship broken."
    wait_for_role(backup, FailoverRole.NONE)
    with pytest.raises(ApplianceRefused, match="not in a failover relationship"):
        primary.break_relationship()
    result = primary.establish_relationship(backup_host=sim.appliance(pair[1])["address"],
                                            reverse_host=sim.appliance(pair[0])["address"],
                                            backup_port=sim.port, reverse_port=sim.port)
    assert "established" in result.message
    assert backup.check_health().failover_role is FailoverRole.BACKUP


def test_certificates_import_default_and_pinning(sim, connect, pair):
    client = connect(pair[0])
    (current,) = client.get_certificates()
    assert current.is_default and current.sha256_fingerprint and "BEGIN CERTIFICATE" in current.pem
    assert sim.appliance(pair[0])["address"] in current.names
    # The admin-friendly certificate fingerprint works as a pin against the real appliance.
    assert connect(pair[0], trust=TrustSettings(pin=current.sha256_fingerprint)).check_health().success

    other = make_pki()  # a certificate for 127.0.0.1 from a CA the portal does not trust
    imported = client.import_certificate(certificate=other.cert_pem, private_key=other.key_pem,
                                         chain=other.ca_pem, friendly_name="replacement")
    assert imported.id and imported.sha256_fingerprint
    assert {c.id for c in client.get_certificates()} == {current.id, imported.id}
    assert client.set_default_certificate(imported.id).message == "Default certificate changed."
    with pytest.raises(ApplianceTLSError):
        connect(pair[0]).check_health()  # new default certificate: untrusted CA, wrong name
    with pytest.raises(ApplianceTLSError, match="fingerprint mismatch"):
        connect(pair[0], trust=TrustSettings(pin=current.sha256_fingerprint)).check_health()
    pinned = connect(pair[0], trust=TrustSettings(pin=imported.sha256_fingerprint))
    pinned.set_default_certificate(current.id)
    assert connect(pair[0]).check_health().success
    with pytest.raises(ApplianceRefused, match="No certificate"):
        client.set_default_certificate("nope")


def test_shared_ips(connect, pair):
    assert connect(pair[0]).set_shared_ips(["127.250.0.9"]).message == "Shared IP addresses saved."
    assert connect(pair[0]).check_health().enabled_shared_ips == ["127.250.0.9"]


# -- documented failures ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fault", "params", "error", "message"),
    [
        ("down", {}, ApplianceUnreachable, "cannot reach"),
        ("hang", {}, ApplianceTimeout, "timed out"),
        ("hang", {"handshake": True}, ApplianceTimeout, "timed out"),
        ("slow", {"ms": 3000}, ApplianceTimeout, "timed out"),
        ("malformed", {"mode": "truncated"}, ApplianceProtocolError, "not well-formed"),
        ("malformed", {"mode": "garbage"}, ApplianceProtocolError, "not well-formed"),
        ("oversized", {"mb": 50}, ApplianceProtocolError, "limit"),
        ("xml_bomb", {}, ApplianceProtocolError, "forbidden XML"),
        ("external_entity", {}, ApplianceProtocolError, "forbidden XML"),
        ("wrong_content_type", {}, ApplianceProtocolError, "text/html"),
        ("changed_cert", {}, ApplianceTLSError, "TLS verification failed"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_fault_maps_to_typed_error(sim, connect, pair, fault, params, error, message):
    sim.set_fault(sim.appliance(pair[0])["address"], fault, **params)
    started = time.monotonic()
    with pytest.raises(error, match=message) as caught:
        connect(pair[0], timeouts=Timeouts(connect=1, total=1.5)).check_health()
    assert time.monotonic() - started < 4
    assert sim.appliance(pair[0])["address"] in str(caught.value)
    if error is ApplianceUnreachable:
        assert not isinstance(caught.value, ApplianceTimeout)


def test_wrong_secret(connect, pair):
    with pytest.raises(ApplianceAuthError, match="invalid_client"):
        connect(pair[0], secret="not-the-secret").check_health()


def test_revoked_tokens_are_refetched_once(sim, connect, pair):
    client = connect(pair[0])
    client.check_health()
    sim.control("DELETE", f"/appliances/{sim.appliance(pair[0])['address']}/tokens")  # secret regenerated
    assert client.check_health().success


def test_one_live_token_per_account(sim, connect, pair):
    for _ in range(40):  # more calls than the 30-token cap
        connect(pair[0]).check_health()
    accounts = {a["client_id"]: a for a in sim.state(sim.appliance(pair[0])["address"])["accounts"]}
    assert accounts[sim.appliance(pair[0])["client_id"]]["live_tokens"] == 1


# -- batch -----------------------------------------------------------------------------------------

def test_probe_many_reports_per_appliance(sim, pair, token_cache):
    ca_pem = sim.ca_path.read_text()
    specs = sim.appliances()
    down, hung = specs[0]["address"], specs[1]["address"]
    sim.set_fault(down, "down")
    sim.set_fault(hung, "hang")
    targets = [
        ProbeTarget(ApplianceAddress(s["address"], sim.port), Credentials(s["client_id"], s["client_secret"]),
                    TrustSettings(ca_pem=ca_pem), Timeouts(connect=1, total=2), ref=s["name"])
        for s in specs
    ]
    started = time.monotonic()
    results = probe_many(targets, concurrency=4, timeout=3, token_cache=token_cache)
    assert time.monotonic() - started < 6
    assert [r.target.ref for r in results] == [s["name"] for s in specs]
    by_address = {r.target.address.host: r for r in results}
    assert isinstance(by_address[down].error, ApplianceUnreachable)
    assert isinstance(by_address[hung].error, ApplianceTimeout)
    healthy = [r for r in results if r.target.address.host not in (down, hung)]
    assert healthy and all(r.ok and r.health.appliance_id for r in healthy)
    assert {r.health.appliance_id for r in healthy} == {s["guid"] for s in specs[2:]}
    # Second round reuses the cached tokens: no new token per appliance.
    again = probe_many(targets[2:], concurrency=8, token_cache=token_cache)
    assert all(r.ok for r in again)
    live = sim.state(specs[2]["address"])["accounts"][0]["live_tokens"]
    assert live == 1

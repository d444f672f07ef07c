"""The ``vendor`` profile: an appliance that answers the vendor API only, as real appliances do."""

import hashlib

import pytest

from simulator import VENDOR_XML_NAMESPACE, XML_NAMESPACE
from simulator.backupfile import MAGIC
from simulator.fleet import FleetError, generate_fleet, normalise_fleet

from .helpers import client, pair, single, text


@pytest.fixture
def vendor_sim(fresh_simulator):
    fresh_simulator.set_profile("vendor")
    return fresh_simulator


def _raw(sim, name, action, **params):
    api = client(sim, name)
    return api.request("GET", "/api/command", params={"action": action, **params},
                       headers={"Authorization": f"Bearer {api.token()}"})


def test_extension_actions_are_unknown_actions_like_on_the_vendor_api(vendor_sim):
    primary, _ = pair(vendor_sim)
    for action in ("x_get_capabilities", "x_sync_now", "x_get_backup_settings", "x_establish_relationship"):
        root = client(vendor_sim, primary["name"]).command(action)
        assert root.tag == "error"
        assert root.text == f"Invalid action: '{action}'."
    # Exactly what a typo gets: nothing tells a client that the action exists elsewhere.
    assert client(vendor_sim, primary["name"]).command("no_such_action").text == "Invalid action: 'no_such_action'."
    assert vendor_sim.state(primary["address"])["sync_in_progress"] is False


def test_vendor_answers_use_the_older_namespace_and_vendor_actions_still_work(vendor_sim):
    primary, backup = pair(vendor_sim)
    status, _, body = _raw(vendor_sim, primary["name"], "check_health")
    assert status == 200
    assert f'xmlns="{VENDOR_XML_NAMESPACE}"'.encode() in body and XML_NAMESPACE.encode() not in body
    _, _, error = _raw(vendor_sim, primary["name"], "x_get_capabilities")
    assert f'<error xmlns="{VENDOR_XML_NAMESPACE}"'.encode() in error
    # get_api_info and set_failover_role behave as on any appliance.
    info = client(vendor_sim, primary["name"]).command("get_api_info")
    assert info.tag == "api_information"
    root = client(vendor_sim, backup["name"]).command("set_failover_role", method="POST", role="primary")
    assert text(root, "success") == "Successfully changed role."
    assert vendor_sim.state(backup["address"])["role"] == "primary"
    assert vendor_sim.state(primary["address"])["role"] == "backup"


def test_health_of_a_vendor_primary_carries_the_recorded_time_format(vendor_sim):
    primary, _ = pair(vendor_sim)
    root = client(vendor_sim, primary["name"]).command("check_health")
    sync = root.find("last_data_sync_time")
    # "2019-10-07T00:32:50.877+0000", as recorded from a real appliance, with the epoch in ts.
    assert sync.text.endswith("+0000") and "." in sync.text
    assert sync.get("ts").isdigit()


def test_health_omits_failover_elements_when_failover_is_off(vendor_sim):
    appliance = single(vendor_sim)
    root = client(vendor_sim, appliance["name"]).command("check_health")
    assert [child.tag for child in root] == ["appliance", "version", "success", "failover_role"]
    assert text(root, "failover_role") == "none"


def test_vendor_backup_is_an_opaque_file_with_a_name_and_type(vendor_sim):
    primary, _ = pair(vendor_sim)
    api = client(vendor_sim, primary["name"])
    auth = {"Authorization": f"Bearer {api.token()}"}
    status, headers, blob = api.request("GET", "/api/backup", headers=auth)
    assert status == 200
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"].startswith(f'attachment; filename="{primary["hostname"]}-')
    assert headers["content-disposition"].endswith('.nsb"')
    assert not blob.startswith(MAGIC) and b"appliance_id" not in blob and len(blob) > 1024
    # Same state, same file; without logged data it is smaller.
    assert api.request("GET", "/api/backup", headers=auth)[2] == blob
    _, _, without_logs = api.request("GET", "/api/backup", params={"include_logged_data": "0"}, headers=auth)
    assert len(without_logs) < len(blob)
    assert hashlib.sha256(without_logs).digest() != hashlib.sha256(blob).digest()


@pytest.mark.parametrize("profile", ["vendor", "extended"])
def test_password_protected_backup_needs_the_password_in_a_json_body(fresh_simulator, profile):
    primary, _ = pair(fresh_simulator)
    fresh_simulator.set_state(primary["address"], profile=profile, backup_password="s3cret")
    api = client(fresh_simulator, primary["name"])
    auth = {"Authorization": f"Bearer {api.token()}"}
    status, headers, body = api.request("POST", "/api/backup", headers=auth)
    assert status == 200 and headers["content-type"].startswith("text/xml")
    assert b"Invalid credentials" in body
    status, _, body = api.request("POST", "/api/backup", headers=auth, json_body={"password": "wrong"})
    assert b"Invalid credentials" in body
    status, headers, body = api.request("POST", "/api/backup", headers=auth, json_body={"password": "s3cret"})
    assert status == 200 and headers["content-type"] == "application/octet-stream" and len(body) > 1024


def test_reset_restores_the_fleet_profile(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    fresh_simulator.set_profile("vendor", [primary["address"]])
    assert fresh_simulator.state(primary["address"])["profile"] == "vendor"
    fresh_simulator.reset()
    assert fresh_simulator.state(primary["address"])["profile"] == "extended"
    assert client(fresh_simulator, primary["name"]).command("x_get_capabilities").tag == "capabilities"


def test_generated_fleet_mixes_profiles_deterministically():
    fleet = generate_fleet(2, 3, 2, vendor_pairs_per_org=1, vendor_singles_per_org=1)
    for org in fleet["organisations"]:
        slug = org["slug"]
        names = {a["name"]: a["profile"] for a in org["appliances"]}
        assert names[f"{slug}-pair03-a"] == names[f"{slug}-pair03-b"] == "vendor"
        assert names[f"{slug}-pair01-a"] == names[f"{slug}-pair02-b"] == "extended"
        assert names[f"{slug}-single01"] == "extended" and names[f"{slug}-single02"] == "vendor"
    assert generate_fleet(2, 3, 2, vendor_pairs_per_org=1) != generate_fleet(2, 3, 2)
    assert all(a["profile"] == "extended" for o in generate_fleet(1, 2, 1)["organisations"] for a in o["appliances"])


def test_unknown_profile_is_rejected():
    fleet = generate_fleet(1, 1, 0)
    fleet["organisations"][0]["appliances"][0]["profile"] = "enterprise"
    with pytest.raises(FleetError, match="unknown profile"):
        normalise_fleet(fleet)

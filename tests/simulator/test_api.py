"""Appliance API over real TLS sockets: OAuth, check_health, get_api_info, get_appliances, backup."""

import time

from simulator import XML_NAMESPACE
from simulator.backupfile import MAGIC, parse_header

from .helpers import client, pair, single, text


def test_token_endpoint_issues_bearer_tokens(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    status, payload = client(fresh_simulator, primary["name"]).token_response()
    assert status == 200
    assert payload["token_type"] == "Bearer"
    assert payload["expires_in"] == 3600
    assert len(payload["access_token"]) > 20


def test_wrong_credentials_are_refused_with_json_401(fresh_simulator):
    primary, backup = pair(fresh_simulator)
    api = client(fresh_simulator, primary["name"])
    status, payload = api.token_response(client_secret="wrong")
    assert status == 401 and payload["error"] == "invalid_client"
    # Credentials of another appliance are unknown here.
    status, payload = api.token_response(backup["client_id"], backup["client_secret"])
    assert status == 401


def test_command_without_valid_token_is_refused(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    api = client(fresh_simulator, primary["name"])
    status, _, body = api.request("GET", "/api/command", params={"action": "check_health"},
                                  headers={"Authorization": "Bearer not-a-token"})
    assert status == 401 and b"<error" in body


def test_thirty_first_token_silently_invalidates_the_oldest(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    api = client(fresh_simulator, primary["name"])
    tokens = [api.token_response()[1]["access_token"] for _ in range(31)]

    def health_status(token):
        return api.request("GET", "/api/command", params={"action": "check_health"},
                           headers={"Authorization": f"Bearer {token}"})[0]

    assert health_status(tokens[0]) == 401
    assert health_status(tokens[1]) == 200
    assert health_status(tokens[30]) == 200
    full = next(a for a in fresh_simulator.state(primary["address"])["accounts"]
                if a["client_id"] == primary["client_id"])
    assert full["live_tokens"] == 30


def test_check_health_of_a_primary_has_every_documented_element(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    root = client(fresh_simulator, primary["name"]).command("check_health")
    assert root.tag == "health_check"
    assert [child.tag for child in root] == [
        "appliance", "version", "success", "failover_role", "enabled_shared_ips",
        "last_data_sync_time", "last_data_sync_status",
    ]
    assert root.find("appliance").get("id") == primary["guid"]
    assert text(root, "appliance") == primary["hostname"]
    assert text(root, "version") == f"{primary['version']} ({primary['build']})"
    assert text(root, "success") == "1"
    assert text(root, "failover_role") == "primary"
    assert [ip.text for ip in root.find("enabled_shared_ips")] == fresh_simulator.fleet["organisations"][0]["pairs"][0]["shared_ips"]
    ts = int(root.find("last_data_sync_time").get("ts"))
    assert abs(time.time() - 600 - ts) < 120
    assert text(root, "last_data_sync_status") == "Success"


def test_check_health_raw_xml_uses_the_documented_namespace(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    api = client(fresh_simulator, primary["name"])
    status, headers, body = api.request("GET", "/api/command", params={"action": "check_health"},
                                        headers={"Authorization": f"Bearer {api.token()}"})
    assert status == 200
    assert headers["content-type"] == "text/xml; charset=UTF-8"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert f'<health_check xmlns="{XML_NAMESPACE}">'.encode() in body


def test_check_health_omissions_for_backup_and_single(fresh_simulator):
    _, backup = pair(fresh_simulator)
    root = client(fresh_simulator, backup["name"]).command("check_health")
    assert text(root, "failover_role") == "backup"
    assert root.find("enabled_shared_ips") is None  # shared IPs are enabled on the primary only
    assert root.find("last_data_sync_time") is not None

    root = client(fresh_simulator, single(fresh_simulator)["name"]).command("check_health")
    assert [child.tag for child in root] == ["appliance", "version", "success", "failover_role"]
    assert text(root, "failover_role") == "none"


def test_command_accepts_form_encoded_post(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    root = client(fresh_simulator, primary["name"]).command("check_health", method="POST")
    assert text(root, "success") == "1"


def test_unknown_action_is_an_error_element(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    root = client(fresh_simulator, primary["name"]).command("no_such_action")
    assert root.tag == "error" and "no_such_action" in root.text


def test_unhealthy_appliance_reports_failure_in_both_probes(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    api = client(fresh_simulator, primary["name"])
    assert api.request("GET", "/check_health")[0] == 200
    fresh_simulator.set_fault(primary["address"], "unhealthy", message="Disk full")
    root = api.command("check_health")
    assert text(root, "success") == "0"
    assert text(root, "error_message") == "Disk full"
    assert [c.tag for c in root][:5] == ["appliance", "version", "success", "error_message", "failover_role"]
    status, _, body = api.request("GET", "/check_health")
    assert status == 500 and b"<" not in body


def test_get_api_info_reports_account_permissions(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    full = client(fresh_simulator, primary["name"]).command("get_api_info")
    perms = {p.get("name"): p.text for p in full.find("permissions")}
    assert perms["perm_command"] == "full_access" and perms["perm_backup"] == "1"
    assert abs(int(text(full, "timestamp")) - time.time()) < 60
    read_only = client(fresh_simulator, primary["name"], account="read_only").command("get_api_info")
    perms = {p.get("name"): p.text for p in read_only.find("permissions")}
    assert perms["perm_command"] == "read_only" and perms["perm_backup"] == "0"


def test_read_only_account_cannot_set_failover_role(fresh_simulator):
    _, backup = pair(fresh_simulator)
    root = client(fresh_simulator, backup["name"], account="read_only").command("set_failover_role", role="primary")
    assert root.tag == "error"
    assert fresh_simulator.state(backup["address"])["role"] == "backup"


def test_get_appliances_lists_both_members(fresh_simulator):
    primary, backup = pair(fresh_simulator)
    root = client(fresh_simulator, primary["name"]).command("get_appliances")
    rows = {a.get("id"): (text(a, "public_hostname"), text(a, "failover_role"), text(a, "cluster_role"))
            for a in root.findall("appliance")}
    assert rows == {primary["guid"]: (primary["hostname"], "primary", "single"),
                    backup["guid"]: (backup["hostname"], "backup", "single")}


def test_backup_file_is_deterministic_and_needs_perm_backup(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    api = client(fresh_simulator, primary["name"])
    auth = {"Authorization": f"Bearer {api.token()}"}
    status, headers, first = api.request("GET", "/api/backup", headers=auth)
    assert status == 200 and first.startswith(MAGIC)
    assert headers["content-type"] == "application/octet-stream"
    header = parse_header(first)
    assert header["appliance_id"] == primary["guid"] and header["version"] == primary["version"]
    assert header["config"] == primary["data"]["config"]
    assert api.request("POST", "/api/backup", headers=auth)[2] == first

    ro = client(fresh_simulator, primary["name"], account="read_only")
    status, _, body = ro.request("GET", "/api/backup", headers={"Authorization": f"Bearer {ro.token()}"})
    assert status == 403 and not body.startswith(MAGIC)

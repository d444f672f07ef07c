"""Pair behaviour: role swaps, data syncs, force, partitions, relationships (real sockets)."""

import threading
import time

from .helpers import client, pair, role, single, text


def watch_roles(sim, a, b, stop):
    """Record every (role_a, role_b) combination seen until ``stop`` is set."""
    seen = []

    def run():
        while not stop.is_set():
            seen.append((role(sim, a), role(sim, b)))
            time.sleep(0.01)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return seen, thread


def test_promoting_the_backup_swaps_roles_serially_and_moves_shared_ips(fresh_simulator):
    primary, backup = pair(fresh_simulator)
    stop = threading.Event()
    seen, thread = watch_roles(fresh_simulator, primary, backup, stop)
    root = client(fresh_simulator, backup["name"]).command("set_failover_role", role="primary")
    stop.set()
    thread.join()
    assert root.tag == "set_failover_role" and text(root, "success") == "Successfully changed role."
    # The old primary steps down first: for a moment both are backup, never both primary.
    assert ("backup", "backup") in seen
    assert ("primary", "primary") not in seen
    assert (role(fresh_simulator, primary), role(fresh_simulator, backup)) == ("backup", "primary")
    new_primary = client(fresh_simulator, backup["name"]).command("check_health")
    assert [ip.text for ip in new_primary.find("enabled_shared_ips")]
    assert client(fresh_simulator, primary["name"]).command("check_health").find("enabled_shared_ips") is None


def test_data_sync_first_disconnects_users_syncs_then_swaps(fresh_simulator):
    primary, backup = pair(fresh_simulator, 1)
    # 30 GB at the test fleet's 1 GB/s link: a 32 simulated-second (0.32 s) sync.
    fresh_simulator.set_state(primary["address"], users_connected=7,
                              data={"users": 999, "log_bytes": 1, "recording_bytes": 30_000_000_000})
    fresh_simulator.set_state(backup["address"], data={"users": 1})
    assert fresh_simulator.state(backup["address"])["data"]["users"] == 1
    started = time.monotonic()
    root = client(fresh_simulator, primary["name"]).command("set_failover_role", role="backup", data_sync_first=1)
    assert text(root, "success") == ("Successfully started data sync. Role change will occur upon "
                                      "successful completion.")
    state = fresh_simulator.state(primary["address"])
    assert state["users_connected"] == 0 and state["accepting_users"] is False
    assert state["busy"] == "data_sync_first"
    # Nothing else is allowed until the swap completes.
    refused = client(fresh_simulator, primary["name"]).command("x_sync_now")
    assert refused.tag == "error"
    fresh_simulator.wait_for(lambda: role(fresh_simulator, backup) == "primary", timeout=15)
    elapsed = time.monotonic() - started
    assert role(fresh_simulator, primary) == "backup"
    after = fresh_simulator.state(backup["address"])
    assert after["data"]["users"] == 999 and after["data"]["log_bytes"] == 1  # overwritten by the primary's
    record = after["sync_history"][-1]
    assert record["reason"] == "data_sync_first" and record["status"] == "Success"
    assert record["source"] == primary["address"] and record["target"] == backup["address"]
    # sync (32 simulated s) + swap gap (20 simulated s) at time_scale 0.01
    assert elapsed >= 0.5


def test_sync_now_takes_time_in_proportion_to_size_and_bandwidth(fresh_simulator):
    primary, backup = pair(fresh_simulator, 2)
    # 100 MB at 1 MB/s = 100 simulated seconds (+2 s overhead) = ~1.02 s real at time_scale 0.01.
    fresh_simulator.set_state(primary["address"], data={"file_store_bytes": 100_000_000, "log_bytes": 0,
                                                        "recording_bytes": 0, "users": 42})
    api = client(fresh_simulator, backup["name"])
    api.command("x_set_backup_settings", bandwidth_limit=1_000_000)
    started = time.monotonic()
    assert text(api.command("x_sync_now"), "success")
    assert text(api.command("x_get_sync_status"), "sync_in_progress") == "1"
    fresh_simulator.wait_for(lambda: not fresh_simulator.state(backup["address"])["sync_in_progress"], timeout=10)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3
    assert fresh_simulator.state(backup["address"])["data"]["users"] == 42
    health = api.command("check_health")
    assert text(health, "last_data_sync_status") == "Success"
    assert abs(int(health.find("last_data_sync_time").get("ts")) - time.time()) < 5


def test_step_down_refused_when_peer_unreachable_unless_forced(fresh_simulator):
    primary, backup = pair(fresh_simulator)
    fresh_simulator.set_fault(backup["address"], "partition")
    api = client(fresh_simulator, primary["name"])
    root = api.command("set_failover_role", role="backup")
    assert root.tag == "error" and "cancel" in root.text
    assert role(fresh_simulator, primary) == "primary"
    root = api.command("set_failover_role", role="backup", force=1)
    assert text(root, "success") == "Successfully changed role."
    # The peer never heard about it: both are backup now.
    assert (role(fresh_simulator, primary), role(fresh_simulator, backup)) == ("backup", "backup")
    assert api.command("check_health").find("enabled_shared_ips") is None


def test_backup_with_automatic_failover_promotes_itself_under_partition(fresh_simulator):
    primary, backup = pair(fresh_simulator, 3)
    api_b = client(fresh_simulator, backup["name"])
    api_b.command("x_set_backup_settings", automatic_failover=1, primary_timeout=10,
                  connectivity_test_ips=single(fresh_simulator)["address"])
    fresh_simulator.set_fault(primary["address"], "partition")
    fresh_simulator.wait_for(lambda: role(fresh_simulator, backup) == "primary", timeout=5)
    # Split brain: each side is healthy and primary as far as it can tell.
    for spec in (primary, backup):
        health = client(fresh_simulator, spec["name"]).command("check_health")
        assert text(health, "failover_role") == "primary" and text(health, "success") == "1"
        assert health.find("enabled_shared_ips") is not None
    fresh_simulator.clear_fault(primary["address"], "partition")
    health = client(fresh_simulator, primary["name"]).command("check_health")
    assert text(health, "success") == "0" and "conflict" in text(health, "error_message").lower()


def test_isolated_backup_does_not_promote_itself(fresh_simulator):
    primary, backup = pair(fresh_simulator, 3)
    client(fresh_simulator, backup["name"]).command("x_set_backup_settings", automatic_failover=1, primary_timeout=5)
    fresh_simulator.set_fault(backup["address"], "partition", isolated=True)
    time.sleep(0.3)
    assert role(fresh_simulator, backup) == "backup"


def test_backup_promotes_itself_when_primary_is_down(fresh_simulator):
    primary, backup = pair(fresh_simulator, 2)
    client(fresh_simulator, backup["name"]).command("x_set_backup_settings", automatic_failover=1, primary_timeout=5)
    fresh_simulator.set_fault(primary["address"], "down")
    fresh_simulator.wait_for(lambda: role(fresh_simulator, backup) == "primary", timeout=5)
    assert fresh_simulator.state(backup["address"])["role_history"][-1]["reason"].startswith("automatic failover")


def test_break_and_establish_relationship(fresh_simulator):
    primary, backup = pair(fresh_simulator, 1)
    api = client(fresh_simulator, primary["name"])
    assert text(api.command("x_break_relationship"), "success")
    assert [role(fresh_simulator, a) for a in (primary, backup)] == ["none", "none"]
    health = api.command("check_health")
    assert [c.tag for c in health] == ["appliance", "version", "success", "failover_role"]

    port = fresh_simulator.port
    root = api.command("x_establish_relationship", method="POST", backup_host=backup["hostname"],
                       backup_port=port, reverse_host=primary["address"], reverse_port=port)
    assert root.tag == "x_establish_relationship", root.text
    assert [role(fresh_simulator, a) for a in (primary, backup)] == ["primary", "backup"]
    # The first sync starts about 60 simulated seconds later (0.6 s here).
    fresh_simulator.wait_for(lambda: fresh_simulator.state(backup["address"])["last_sync"], timeout=10)
    fresh_simulator.wait_for(
        lambda: fresh_simulator.state(backup["address"])["last_sync"]["status"] == "Success", timeout=10)


def test_establish_requires_same_version_and_key(fresh_simulator):
    primary, backup = pair(fresh_simulator, 1)
    api = client(fresh_simulator, primary["name"])
    api.command("x_break_relationship")
    port = fresh_simulator.port
    args = {"backup_host": backup["address"], "backup_port": port, "reverse_host": primary["address"], "reverse_port": port}

    fresh_simulator.set_state(backup["address"], inter_appliance_key="different")
    root = api.command("x_establish_relationship", **args)
    assert root.tag == "error" and "pre-shared key" in root.text
    fp_a = text(api.command("x_get_key_fingerprint"), "fingerprint")
    fp_b = text(client(fresh_simulator, backup["name"]).command("x_get_key_fingerprint"), "fingerprint")
    assert fp_a != fp_b and len(fp_a) == 64 and primary["inter_appliance_key"] not in fp_a

    fresh_simulator.set_state(backup["address"], inter_appliance_key=primary["inter_appliance_key"], build="99999-ffff")
    root = api.command("x_establish_relationship", **args)
    assert root.tag == "error" and "version" in root.text

    fresh_simulator.set_state(backup["address"], build=primary["build"])
    fresh_simulator.set_fault(backup["address"], "down")
    root = api.command("x_establish_relationship", **args)
    assert root.tag == "error" and "Unable to connect" in root.text


def test_backup_settings_round_trip(fresh_simulator):
    _, backup = pair(fresh_simulator)
    api = client(fresh_simulator, backup["name"])
    api.command("x_set_backup_settings", enable_backup_operations=1, primary_timeout=120, sync_interval=900,
                bandwidth_limit=5_000_000, automatic_failover=1, connectivity_test_ips="127.1.0.9, 127.1.0.10")
    root = api.command("x_get_backup_settings")
    assert text(root, "primary_timeout") == "120" and text(root, "sync_interval") == "900"
    assert text(root, "bandwidth_limit") == "5000000" and text(root, "automatic_failover") == "1"
    assert [ip.text for ip in root.find("connectivity_test_ips")] == ["127.1.0.9", "127.1.0.10"]
    assert client(fresh_simulator, backup["name"], account="read_only").command(
        "x_set_backup_settings", primary_timeout=1).tag == "error"


def test_capabilities_list_every_extension_action(fresh_simulator):
    primary, _ = pair(fresh_simulator)
    root = client(fresh_simulator, primary["name"]).command("x_get_capabilities")
    actions = [a.text for a in root.find("extension_actions")]
    assert all(a.startswith("x_") for a in actions)
    for expected in ("x_establish_relationship", "x_break_relationship", "x_sync_now", "x_get_sync_status",
                     "x_get_backup_settings", "x_set_backup_settings", "x_get_certificates",
                     "x_import_certificate", "x_set_default_certificate", "x_get_key_fingerprint"):
        assert expected in actions

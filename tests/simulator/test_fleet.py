"""Fleet file generation and validation, the CLI, and the no-Django rule."""

import ipaddress
import subprocess
import sys

import pytest

from simulator.fleet import FleetError, generate_fleet, load_fleet, normalise_fleet


def test_generate_fleet_is_deterministic_and_uses_loopback_addresses(tmp_path):
    first = generate_fleet(organisations=3, pairs_per_org=2, singles=1)
    assert first == generate_fleet(organisations=3, pairs_per_org=2, singles=1)
    appliances = [a for org in first["organisations"] for a in org["appliances"]]
    assert len(appliances) == 15
    assert appliances[0]["address"] == "127.1.0.1"
    addresses = [ipaddress.IPv4Address(a["address"]) for a in appliances]
    assert all(a.is_loopback and a != ipaddress.IPv4Address("127.0.0.1") for a in addresses)
    assert len(set(addresses)) == len(addresses)
    for org in first["organisations"]:
        by_name = {a["name"]: a for a in org["appliances"]}
        for p in org["pairs"]:
            a, b = by_name[p["primary"]], by_name[p["backup"]]
            assert a["inter_appliance_key"] == b["inter_appliance_key"]
            assert (a["version"], a["build"]) == (b["version"], b["build"])


def test_addresses_skip_network_and_broadcast_looking_octets():
    fleet = generate_fleet(organisations=1, pairs_per_org=200, singles=0)
    last_octets = {int(a["address"].rsplit(".", 1)[1]) for a in fleet["organisations"][0]["appliances"]}
    assert 0 not in last_octets and 255 not in last_octets


def test_cli_generate_fleet_round_trips_through_load(tmp_path):
    out = tmp_path / "fleet.yaml"
    subprocess.run([sys.executable, "-m", "simulator", "generate-fleet", "--organisations", "2",
                    "--pairs-per-org", "1", "--singles", "2", "-o", str(out)], check=True, capture_output=True)
    fleet = load_fleet(out)
    assert fleet == load_fleet(out)
    assert fleet["organisations"][1]["appliances"][0]["client_id"]
    assert generate_fleet(2, 1, 2)["organisations"] == fleet["organisations"]


def test_invalid_fleets_are_rejected():
    fleet = generate_fleet(1, 1, 0)
    fleet["organisations"][0]["appliances"][0]["address"] = "127.0.0.1"
    with pytest.raises(FleetError):
        normalise_fleet(fleet)
    fleet = generate_fleet(1, 1, 0)
    fleet["organisations"][0]["pairs"][0]["backup"] = "nobody"
    with pytest.raises(FleetError):
        normalise_fleet(fleet)


def test_simulator_never_imports_django():
    code = ("import sys, simulator.server, simulator.testing, simulator.__main__; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plain_http_mode_and_deny_account_from_a_custom_fleet_file(tmp_path):
    from simulator.fleet import write_fleet
    from simulator.testing import ApplianceClient, SimulatorProcess

    fleet = generate_fleet(organisations=1, pairs_per_org=0, singles=1)
    appliance = fleet["organisations"][0]["appliances"][0]
    appliance["extra_accounts"].append({"client_id": "denied", "client_secret": "s3cret-denied",
                                        "perm_command": "deny", "perm_backup": False})
    write_fleet(fleet, tmp_path / "fleet.yaml")
    with SimulatorProcess(tmp_path / "fleet.yaml", http=True) as sim:
        assert sim.base_url(appliance["address"]).startswith("http://")
        api = ApplianceClient(sim, appliance["name"], account="deny")
        assert api.command("check_health").tag == "error"
        assert ApplianceClient(sim, appliance["name"]).command("check_health").tag == "health_check"

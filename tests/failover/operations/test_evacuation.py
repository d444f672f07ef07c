"""Evacuating a location against the simulator: the plan first (who moves, who cannot and why), bounded
concurrency, the stop threshold, and the return."""

import pytest
from django.core.exceptions import ValidationError

from appliances.models import Appliance
from failover.models import EvacuationItemStatus, EvacuationStatus, Operation, OperationStatus
from failover.operations import run_operation
from failover.probing import probe_appliances
from failover.services.evacuations import evacuation_advance, evacuation_plan, evacuation_start


def place(ops_fleet):
    """Normal primaries in PAR-1 and backups in LYO-2, except pair 4 whose members both stand in PAR-1."""
    for index, pair in enumerate(ops_fleet.pairs):
        Appliance.objects.filter(pk=pair.primary_id).update(location="PAR-1")
        Appliance.objects.filter(pk=pair.backup_id).update(location="PAR-1" if index == 3 else "LYO-2")
    probe_appliances([a.pk for pair in ops_fleet.pairs for a in (pair.primary, pair.backup)])


def run_all(evacuation) -> None:
    """What the beat task and the workers do, in this process: advance, run what it started, until it ends."""
    for _round in range(20):
        evacuation_advance(evacuation_id=evacuation.pk)
        evacuation.refresh_from_db()
        if evacuation.status != EvacuationStatus.RUNNING:
            return
        running = evacuation.items.filter(status=EvacuationItemStatus.RUNNING)
        assert running.count() <= evacuation.concurrency  # bounded
        for item in running:
            run_operation(item.operation_id)
    raise AssertionError("the evacuation did not finish")


def test_evacuate_then_return(ops_fleet):
    place(ops_fleet)
    evacuation = evacuation_plan(actor=ops_fleet.operator, organization=ops_fleet.organization, location="PAR-1",
                                 concurrency=2)
    moving = [item.pair for item in evacuation.items.order_by("position")]
    assert moving == sorted(ops_fleet.pairs[:3], key=lambda pair: pair.site_hostname)
    [blocked] = evacuation.blocked
    assert blocked["pair"] == ops_fleet.pairs[3].pk and "Both members stand in PAR-1" in blocked["reason"]
    assert not Operation.objects.exists()  # a plan touches nothing
    evacuation_start(actor=ops_fleet.operator, evacuation=evacuation)
    run_all(evacuation)
    assert evacuation.status == EvacuationStatus.DONE
    for pair in ops_fleet.pairs[:3]:
        assert (ops_fleet.role(pair.backup), ops_fleet.role(pair.primary)) == ("primary", "backup")
    assert ops_fleet.role(ops_fleet.pairs[3].primary) == "primary"

    probe_appliances([a.pk for pair in ops_fleet.pairs for a in (pair.primary, pair.backup)])
    back = evacuation_plan(actor=ops_fleet.operator, organization=ops_fleet.organization, location="PAR-1",
                           direction="return")
    assert back.items.count() == 3 and back.returning == evacuation
    evacuation_start(actor=ops_fleet.operator, evacuation=back)
    run_all(back)
    for pair in ops_fleet.pairs[:3]:
        assert (ops_fleet.role(pair.primary), ops_fleet.role(pair.backup)) == ("primary", "backup")


def test_stop_threshold_stops_starting_switchovers(ops_fleet):
    place(ops_fleet)
    evacuation = evacuation_plan(actor=ops_fleet.operator, organization=ops_fleet.organization, location="PAR-1",
                                 concurrency=1, stop_after_failures=1)
    first = evacuation.items.order_by("position").first()
    ops_fleet.sim.set_fault(first.target.management_host, "down")  # its switchover fails
    evacuation_start(actor=ops_fleet.operator, evacuation=evacuation)
    run_all(evacuation)
    assert evacuation.status == EvacuationStatus.STOPPED and "threshold 1" in evacuation.stop_reason
    statuses = list(evacuation.items.order_by("position").values_list("status", flat=True))
    assert statuses == [EvacuationItemStatus.FAILED, EvacuationItemStatus.NOT_STARTED, EvacuationItemStatus.NOT_STARTED]
    assert Operation.objects.filter(status=OperationStatus.SUCCEEDED).count() == 0


def test_plan_input_is_checked(ops_fleet):
    with pytest.raises(ValidationError) as error:
        evacuation_plan(actor=ops_fleet.operator, organization=ops_fleet.organization, location=" ")
    assert "location" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        evacuation_plan(actor=ops_fleet.operator, organization=ops_fleet.organization, location="PAR-1",
                        direction="return")
    assert "No evacuation of PAR-1" in str(error.value)

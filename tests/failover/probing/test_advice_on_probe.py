"""A probe that changes a fact the best-practice rules read re-checks the pair's stored findings."""

from appliances.models import Appliance
from failover.models import AdviceFinding
from failover.services.advice import advice_sweep


def codes(pair) -> set[str]:
    return set(AdviceFinding.objects.filter(pair=pair).values_list("code", flat=True))


def test_a_probe_that_learns_the_build_clears_the_software_mismatch(fleet):
    pair = fleet.pairs[0]
    fleet.probe(pair.primary, pair.backup)
    # The inventory believes the backup runs another build (as before an upgrade the probe has not seen yet).
    Appliance.objects.filter(pk=pair.backup.pk).update(build="1-older")
    advice_sweep()
    assert "software_mismatch" in codes(pair)

    fleet.probe(pair.backup)

    assert "software_mismatch" not in codes(pair)

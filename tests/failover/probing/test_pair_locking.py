"""Two probe batches refreshing the same pair: the later one waits for the earlier one's pair lock and then
derives the pair from both members as committed, not from a member row it read before the other wrote it."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from appliances.models import Appliance
from failover.models import Pair, PairState
from failover.probing.pairs import refresh_pair_states
from tests.factories import PairFactory, appliance_status_set

pytestmark = pytest.mark.django_db(transaction=True)

UP = {"status_reachable": True, "status_healthy": True, "status_error": "", "status_last_sync_status": "Success"}


def test_refresh_waits_for_the_pair_lock_and_reads_members_after_it():
    now = timezone.now()
    pair = PairFactory(established_at=now, last_sync_at=now)
    appliance_status_set(pair.primary_id, **UP, status_role="primary", status_checked_at=now,
                                                        status_last_sync_at=now)
    appliance_status_set(pair.backup_id, **UP, status_role="backup", status_checked_at=now,
                                                       status_last_sync_at=now)
    with transaction.atomic():
        refresh_pair_states(appliance_ids=[pair.primary_id], now=now)
    pair.refresh_from_db()
    assert pair.state == PairState.HEALTHY

    locked, done = threading.Event(), threading.Event()

    def other_batch():
        # Another batch has written the backup (it now reports primary) and holds the pair until it commits.
        try:
            with transaction.atomic():
                Pair.objects.select_for_update().get(pk=pair.pk)
                Appliance.objects.filter(pk=pair.backup_id).update(status_role="primary")
                locked.set()
                time.sleep(0.5)
        finally:
            done.set()
            connection.close()

    thread = threading.Thread(target=other_batch)
    thread.start()
    try:
        assert locked.wait(10)
        primary = Appliance.objects.get(pk=pair.primary_id)
        with transaction.atomic():
            refresh_pair_states(appliance_ids=[primary.pk], now=timezone.now(), known={primary.pk: primary})
            assert done.is_set()  # it waited for the other batch's commit
    finally:
        thread.join()
    pair.refresh_from_db()
    assert pair.state == PairState.CONFLICT, pair.state_reason

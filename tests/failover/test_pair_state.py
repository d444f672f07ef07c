"""Pair state derivation (pure: plain objects in, state out)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from failover.models import PairState
from failover.pair_state import Countdown, WindowCover, derive_pair_state

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def member(name, role, *, reachable=True, healthy=True, error="", synced=NOW - timedelta(hours=1), sync="Success"):
    return SimpleNamespace(name=name, status_reachable=reachable, status_healthy=healthy if reachable else None,
                           status_role=role, status_error=error, status_checked_at=NOW if reachable is not None else None,
                           status_last_sync_at=synced, status_last_sync_status=sync, management_host="127.0.0.1")


def pair(**fields):
    values = {"broken_at": None, "both_backup_since": None, "primary_unreachable_since": None, "last_sync_at": None,
              "established_at": NOW - timedelta(days=30), "sync_stale_after": 26 * 3600,
              "maintenance_since": None, "maintenance_note": ""}
    return SimpleNamespace(**{**values, **fields})


def state(p, a, b, now=NOW):
    return derive_pair_state(pair=p, primary=a, backup=b, now=now)


def test_healthy():
    result = state(pair(), member("a", "primary"), member("b", "backup"))
    assert result.state == PairState.HEALTHY
    assert result.last_sync_at == NOW - timedelta(hours=1)


def test_never_checked_until_both_have_answered():
    result = state(pair(), member("a", "primary"), member("b", "", reachable=None))
    assert result.state == PairState.NEVER_CHECKED
    assert "b" in result.reason


def test_primary_unreachable_keeps_its_start_time():
    since = NOW - timedelta(minutes=3)
    result = state(pair(primary_unreachable_since=since), member("a", "primary", reachable=False, error="refused"),
                   member("b", "backup"))
    assert result.state == PairState.PRIMARY_UNREACHABLE
    assert result.primary_unreachable_since == since
    assert "refused" in result.reason


def test_after_failover_the_old_primary_down_is_the_unreachable_backup():
    result = state(pair(), member("a", "primary", reachable=False), member("b", "primary"))
    assert result.state == PairState.BACKUP_UNREACHABLE
    assert result.primary_unreachable_since is None
    assert result.reason.startswith("a (backup) is unreachable")


def test_backup_down():
    result = state(pair(), member("a", "primary"), member("b", "backup", reachable=False))
    assert result.state == PairState.BACKUP_UNREACHABLE
    assert "b (backup) is unreachable" in result.reason


def test_the_outage_starts_at_the_first_failed_probe():
    first = NOW - timedelta(seconds=40)
    down = member("a", "primary", reachable=False)
    down.status_failing_since = first
    assert state(pair(), down, member("b", "backup")).primary_unreachable_since == first


def test_running_on_the_normal_backup_is_not_healthy():
    result = state(pair(), member("a", "backup"), member("b", "primary"))
    assert result.state == PairState.RUNNING_ON_BACKUP


def test_maintenance_hides_everything_but_two_primaries():
    p = pair(maintenance_since=NOW, maintenance_note="disk swap")
    assert state(p, member("a", "primary", reachable=False), member("b", "backup")).state == PairState.MAINTENANCE
    assert state(p, member("a", "primary"), member("b", "primary")).state == PairState.CONFLICT


def test_an_open_maintenance_window_is_maintenance_with_its_since_and_until_but_two_primaries_still_win():
    window = WindowCover("b", NOW - timedelta(minutes=5), NOW + timedelta(hours=2), "disk swap")
    down = derive_pair_state(pair=pair(), primary=member("a", "primary"), backup=member("b", "backup", reachable=False),
                             now=NOW, window=window)
    assert down.state == PairState.MAINTENANCE
    assert down.reason == "Maintenance window of b since 2026-11-25 11:55 until 2026-11-25 14:00 UTC: disk swap."
    both = derive_pair_state(pair=pair(), primary=member("a", "primary"), backup=member("b", "primary"), now=NOW,
                             window=window)
    assert both.state == PairState.CONFLICT


def test_two_primaries_conflict():
    assert state(pair(), member("a", "primary"), member("b", "primary")).state == PairState.CONFLICT


@pytest.mark.parametrize(("seconds", "expected"), [(0, PairState.DEGRADED), (119, PairState.DEGRADED),
                                                   (121, PairState.CONFLICT_NO_PRIMARY)])
def test_two_backups_conflict_only_past_the_swap_window(settings, seconds, expected):
    settings.PAIR_SWAP_WINDOW_SECONDS = 120
    p = pair(both_backup_since=NOW - timedelta(seconds=seconds) if seconds else None)
    result = state(p, member("a", "backup"), member("b", "backup"))
    assert result.state == expected
    assert result.both_backup_since == (p.both_backup_since or NOW)


def test_sync_stale():
    old = NOW - timedelta(hours=30)
    result = state(pair(), member("a", "primary", synced=old), member("b", "backup", synced=old))
    assert result.state == PairState.SYNC_STALE


def test_failed_last_sync_is_a_lost_peer_link():
    result = state(pair(), member("a", "primary"), member("b", "backup", sync="Failed: lost contact"))
    assert result.state == PairState.PEER_LINK_LOST
    assert "Failed: lost contact" in result.reason


def test_relationship_gone_is_broken():
    assert state(pair(), member("a", "none"), member("b", "backup")).state == PairState.BROKEN_OUTSIDE
    assert state(pair(broken_at=NOW), member("a", "primary"), member("b", "backup")).state == PairState.BROKEN


def test_countdown_follows_the_backup_settings():
    settings_on = SimpleNamespace(primary_timeout=300, automatic_failover=True, enable_backup_operations=True)
    countdown = Countdown.of(since=NOW - timedelta(seconds=120), now=NOW, backup_settings=settings_on)
    assert countdown.failover_in == timedelta(seconds=180)
    settings_off = SimpleNamespace(primary_timeout=300, automatic_failover=False, enable_backup_operations=True)
    assert Countdown.of(since=NOW, now=NOW, backup_settings=settings_off).failover_in is None

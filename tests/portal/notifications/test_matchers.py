"""Alertmanager's matcher syntax: parsed, printed back, matched (regexes anchored, list labels by element)."""

import pytest
from django.core.exceptions import ValidationError

from portal.notifications.matchers import all_match, matchers_text, parse_matchers


def test_text_round_trip_with_quotes_and_commas():
    matchers = parse_matchers('severity="critical", pair=~"shop-.*"\nkind!=sync_stale, note="a\\"b,c"')
    assert [(m.label, m.op, m.value) for m in matchers] == [
        ("severity", "=", "critical"), ("pair", "=~", "shop-.*"), ("kind", "!=", "sync_stale"), ("note", "=", 'a"b,c')]
    assert parse_matchers(matchers_text([m.as_json() for m in matchers])) == matchers


@pytest.mark.parametrize("matchers, labels, expected", [
    ('pair=~"shop-.*"', {"pair": "shop-1.example.com"}, True),
    ('pair=~"shop"', {"pair": "myshop"}, False),  # anchored
    ('kind!="sync_stale"', {"kind": "countdown"}, True),
    ('appliance!~"lab-.*"', {"appliance": "lab-2"}, False),
    ('tags="edge"', {"tags": ["core", "edge"]}, True),
    ('tags!="edge"', {"tags": ["core", "edge"]}, False),
    ('location="fra"', {}, False),
    ('location!="fra"', {}, True),
    ("", {"kind": "anything"}, True),
])
def test_matching(matchers, labels, expected):
    assert all_match([m.as_json() for m in parse_matchers(matchers)], labels) is expected


@pytest.mark.parametrize("text", ["pair", 'pair=~"("', "9x=1", 'pair="unterminated'])
def test_bad_matchers_are_field_errors(text):
    with pytest.raises(ValidationError):
        parse_matchers(text)


def test_an_appliance_alert_carries_its_location_label(db):
    from appliances.notify import appliance_labels
    from tests.factories import ApplianceFactory

    in_paris = ApplianceFactory(location="PAR-1")
    nowhere = ApplianceFactory(location="")
    assert appliance_labels(in_paris) == {"appliance": in_paris.name, "location": "PAR-1"}
    assert "location" not in appliance_labels(nowhere)

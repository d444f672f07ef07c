"""The big lists render with ``portal.api.fast.FastRepresentation``: what a client reads must be exactly what
DRF's own rendering of the same serializer gives, row for row (values, nulls, nested members, URLs, secrets
shown only as set/unset)."""

import json

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from appliances.api.serializers import ApplianceListSerializer
from appliances.models import AddressKind, Appliance
from appliances.selectors import appliances_for_listing
from failover.api.serializers import (
    AlertSerializer,
    FindingSerializer,
    OperationSerializer,
    PairListSerializer,
)
from failover.models import AdviceFinding, Operation, Pair
from failover.services.advice import advice_sweep
from portal.models import Alert, Role
from tests.factories import (
    AlertFactory,
    ApplianceAddressFactory,
    ApplianceFactory,
    BackupSettingsFactory,
    OperationFactory,
    OperationStepFactory,
    PairFactory,
)

pytestmark = pytest.mark.django_db


def drf_rendering(serializer_class, rows, request) -> list:
    """The same serializer rendered by DRF's own to_representation."""
    class Drf(serializer_class):
        to_representation = serializers.Serializer.to_representation

    return json.loads(JSONRenderer().render(Drf(rows, many=True, context={"request": request}).data))


@pytest.fixture
def fleet(org_a, admin_user):
    now = timezone.now()
    probed = ApplianceFactory(organization=org_a, status_checked_at=now, status_reachable=True, status_latency_ms=3.5,
                              status_role="primary", status_shared_ips=["10.0.0.100"], probe_client_secret="s3cret",
                              backup_password="")
    never = ApplianceFactory(organization=org_a, client_secret="")
    ApplianceAddressFactory(appliance=probed, address="10.0.0.1", prefix_length=24, kind=AddressKind.UNIQUE)
    ApplianceAddressFactory(appliance=probed, address="10.0.0.100", prefix_length=24, kind=AddressKind.SHARED)
    pair = PairFactory(organization=org_a, primary=probed, backup=never)
    BackupSettingsFactory(appliance=probed, enable_backup_operations=True)
    operation = OperationFactory(pair=pair, requested_by=admin_user, started_at=now, params={"sync_first": True})
    OperationStepFactory(operation=operation)
    AlertFactory(pair=pair, acknowledged_by=admin_user, acknowledged_at=now)
    AlertFactory(pair=pair)
    advice_sweep()
    return pair


@pytest.fixture
def admin_user(org_a, make_member):
    return make_member(org_a, Role.ADMIN)


@pytest.mark.parametrize("path, serializer_class, rows", [
    ("/api/v1/appliances/", ApplianceListSerializer,
     lambda: appliances_for_listing(Appliance.objects.select_related("organization").prefetch_related("addresses"))
     .order_by("name")),
    ("/api/v1/pairs/", PairListSerializer, lambda: Pair.objects.select_related("primary", "backup").order_by("site_hostname")),
    ("/api/v1/operations/", OperationSerializer, lambda: Operation.objects.prefetch_related("steps").order_by("-created_at", "-id")),
    ("/api/v1/alerts/", AlertSerializer, lambda: Alert.objects.order_by("-created_at", "-id")),
    ("/api/v1/advice/", FindingSerializer, lambda: AdviceFinding.objects.order_by("rank", "site_hostname", "pair_id", "code")),
])
def test_a_list_reads_as_drf_renders_it(api_as, admin_user, fleet, path, serializer_class, rows):
    response = api_as(admin_user).get(path, {"limit": 100})
    listed = response.json()["results"]
    assert listed, "the fixture gives every list rows"
    assert listed == drf_rendering(serializer_class, list(rows()), response.wsgi_request)


class OperationWithDrfReadings(OperationSerializer):
    """Fields whose value DRF's ``get_attribute`` decides: a model method as the source (called), a read-only path
    through an empty relation (left out of the row)."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    requester_email = serializers.CharField(source="requested_by.email", read_only=True)

    class Meta(OperationSerializer.Meta):
        fields = [*OperationSerializer.Meta.fields, "kind_label", "requester_email"]


def test_fields_drf_reads_itself_render_as_drf_renders_them(api_as, admin_user, fleet):
    OperationFactory(pair=fleet, requested_by=None)
    rows = list(Operation.objects.prefetch_related("steps").select_related("requested_by")
                .order_by("-created_at", "-id"))
    request = api_as(admin_user).get("/api/v1/operations/").wsgi_request
    fast = json.loads(JSONRenderer().render(OperationWithDrfReadings(rows, many=True, context={"request": request}).data))
    drf = drf_rendering(OperationWithDrfReadings, rows, request)
    assert [row.get("requester_email") for row in drf] == [None, admin_user.email]
    assert "requester_email" not in drf[0]
    assert fast == drf

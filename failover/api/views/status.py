"""Read-only REST for what the probe loop and the alert watch record: appliances' latest status and history,
pairs' derived state and history, alerts. Everything goes through the chokepoint (TenantReadOnlyViewSet)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from appliances.models import Appliance
from appliances.selectors import appliance_unshown_fields, with_probe_status
from portal.api.viewsets import TenantReadOnlyViewSet
from portal.models import Alert
from portal.services.alerts import alerts_acknowledge
from portal.services.notification_settings import NOTIFICATION_ROLES

from ...filtersets import AlertFilterSet
from ...models import MEMBERS_WITH_STATUS, Pair, PairStateChange, StatusChange
from ...selectors import alert_links_prefetch, pair_unshown_fields, pairs_with_last_check
from ..serializers import (
    AlertSerializer,
    ApplianceProbeStatusSerializer,
    PairStateChangeSerializer,
    PairStatusSerializer,
    StatusChangeSerializer,
)


class ApplianceStatusViewSet(TenantReadOnlyViewSet):
    queryset = Appliance.objects.all()
    serializer_class = ApplianceProbeStatusSerializer
    filterset_fields = ["organization", "status_reachable", "status_healthy", "status_role"]
    ordering_fields = ["name", "status_checked_at", "status_latency_ms"]

    def get_queryset(self):
        return with_probe_status(super().get_queryset()).defer(*appliance_unshown_fields())


class StatusChangeViewSet(TenantReadOnlyViewSet):
    queryset = StatusChange.objects.all()
    serializer_class = StatusChangeSerializer
    filterset_fields = {"organization": ["exact"], "appliance": ["exact"], "reachable": ["exact"],
                        "at": ["gte", "lte"]}


class PairStatusViewSet(TenantReadOnlyViewSet):
    queryset = Pair.objects.all()
    serializer_class = PairStatusSerializer
    select_related = MEMBERS_WITH_STATUS
    filterset_fields = ["organization", "state"]
    ordering_fields = ["site_hostname", "state_since", "last_status_check_at", "last_sync_at"]

    def get_queryset(self):
        return pairs_with_last_check(super().get_queryset()).defer(*pair_unshown_fields())


class PairStateChangeViewSet(TenantReadOnlyViewSet):
    queryset = PairStateChange.objects.all()
    serializer_class = PairStateChangeSerializer
    filterset_fields = {"organization": ["exact"], "pair": ["exact"], "state": ["exact"], "at": ["gte", "lte"]}


class AlertViewSet(TenantReadOnlyViewSet):
    queryset = Alert.objects.all()
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    action_roles = {"acknowledge": NOTIFICATION_ROLES["acknowledge"]}

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """Stops the alert's repeats and escalation (and those of later alerts of the same condition)."""
        alert = self.get_object()
        alerts_acknowledge(actor=request.user, alerts=[alert], via="REST")
        alert.refresh_from_db()
        return Response(AlertSerializer(alert, context=self.get_serializer_context()).data)

    def get_queryset(self):
        return super().get_queryset().prefetch_related(*alert_links_prefetch())

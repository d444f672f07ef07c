"""Pairs over REST: CRUD, and every action of the appliance's failover page as a POST that starts an operation.

Actions take an ``Idempotency-Key`` header: a retried request with the same key returns the operation the first
one started instead of starting another.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.viewsets import Role, TenantModelViewSet

from ...advice_selectors import advice_list
from ...filtersets import PairFilterSet
from ...models import MEMBERS_WITH_STATUS, OperationKind, Pair
from ...selectors import pair_unshown_fields
from ...services.operations import KIND_ROLES, operation_start
from ...services.pairs import (
    pair_create,
    pair_delete,
    pair_establish,
    pair_establish_checks,
    pair_update,
    shared_ips_set,
)
from ..serializers import (
    ActionRequestSerializer,
    EstablishCheckSerializer,
    EstablishRequestSerializer,
    FindingSerializer,
    OperationSerializer,
    PairListSerializer,
    PairSerializer,
    RoleChangeRequestSerializer,
    RunbookSerializer,
    RunbookStartRequestSerializer,
    SharedIpsRequestSerializer,
    SharedIpsResultSerializer,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Any unique string (e.g. a UUID). A retried request with the same key returns the operation the "
                "first request started instead of starting a second one.",
)

KEY_FINGERPRINT = OpenApiParameter(
    "key_fingerprint", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
    description="SHA-256 fingerprint of the peer's SSH key, as read on the backup, to check before establishing.",
)


def _idempotency_key(request) -> str:
    return request.headers.get("Idempotency-Key", "").strip()


def _accepted(operation, request) -> Response:
    return Response(OperationSerializer(operation, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class PairViewSet(TenantModelViewSet):
    queryset = Pair.objects.all()
    serializer_class = PairSerializer
    filterset_class = PairFilterSet
    select_related = ("organization", *MEMBERS_WITH_STATUS)
    ordering_fields = ["site_hostname", "state", "last_sync_at"]
    # The operation actions need what the services' table says (KIND_ROLES); the rest are configuration.
    action_roles = {
        "sync": KIND_ROLES[OperationKind.SYNC], "become_primary": KIND_ROLES[OperationKind.BECOME_PRIMARY],
        "become_backup": KIND_ROLES[OperationKind.BECOME_BACKUP], "fix_conflict": KIND_ROLES[OperationKind.FIX_CONFLICT],
        "establish": KIND_ROLES[OperationKind.ESTABLISH], "break_relationship": KIND_ROLES[OperationKind.BREAK],
        # The lowest role any runbook needs; the service then asks the kind's own (drills and upgrades: admin).
        "runbooks": min((KIND_ROLES[kind] for kind in OperationKind.runbooks()), key=Role.rank),
        "shared_ips": Role.ADMIN, "establish_checks": KIND_ROLES[OperationKind.ESTABLISH], "advice": Role.VIEWER,
    }

    def get_serializer_class(self):
        return PairListSerializer if self.action == "list" else PairSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        # A list of 100 pairs joins 200 appliance rows: not their CA bundles and secrets, which it never shows.
        return queryset.defer(*pair_unshown_fields()) if self.action == "list" else queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        self.require_role_on(data["organization"])
        serializer.instance = pair_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "organization"}
        serializer.instance = pair_update(actor=self.request.user, pair=serializer.instance, data=data)

    def perform_destroy(self, instance):
        pair_delete(actor=self.request.user, pair=instance)

    def _start(self, request, kind, serializer_class=ActionRequestSerializer, **extra):
        pair = self.get_object()
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        operation = operation_start(actor=request.user, pair=pair, kind=kind, reason=body.validated_data.get("reason", ""),
                                    idempotency_key=_idempotency_key(request), **extra)
        return _accepted(operation, request)

    @extend_schema(request=ActionRequestSerializer, responses={202: OperationSerializer}, parameters=[IDEMPOTENCY_KEY],
                   summary="Sync now: the backup pulls the primary's data")
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        return self._start(request, OperationKind.SYNC)

    def _role_change(self, request, kind):
        pair = self.get_object()
        body = RoleChangeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        operation = operation_start(
            actor=request.user, pair=pair, kind=kind, appliance=pair.member(data["appliance"]),
            reason=data.get("reason", ""),
            params={"sync_first": data["sync_first"], "force": data["force"]},
            idempotency_key=_idempotency_key(request),
        )
        return _accepted(operation, request)

    @extend_schema(request=RoleChangeRequestSerializer, responses={202: OperationSerializer},
                   parameters=[IDEMPOTENCY_KEY], summary="Make one member primary")
    @action(detail=True, methods=["post"], url_path="become-primary")
    def become_primary(self, request, pk=None):
        return self._role_change(request, OperationKind.BECOME_PRIMARY)

    @extend_schema(request=RoleChangeRequestSerializer, responses={202: OperationSerializer},
                   parameters=[IDEMPOTENCY_KEY], summary="Make one member backup")
    @action(detail=True, methods=["post"], url_path="become-backup")
    def become_backup(self, request, pk=None):
        return self._role_change(request, OperationKind.BECOME_BACKUP)

    @extend_schema(request=RunbookStartRequestSerializer, responses={202: RunbookSerializer},
                   parameters=[IDEMPOTENCY_KEY],
                   summary="Start a runbook (planned or unplanned maintenance, drill, upgrade); refused with the reason "
                           "on a pair in conflict, broken, or with an operation running")
    @action(detail=True, methods=["post"])
    def runbooks(self, request, pk=None):
        pair = self.get_object()
        body = RunbookStartRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operation = operation_start(actor=request.user, pair=pair, kind=body.validated_data["kind"],
                                    params=body.params(), reason=body.validated_data.get("reason", ""),
                                    idempotency_key=_idempotency_key(request))
        return Response(RunbookSerializer(operation, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ActionRequestSerializer, responses={202: OperationSerializer}, parameters=[IDEMPOTENCY_KEY],
                   summary="Fix this error: resolve both-primary / both-backup")
    @action(detail=True, methods=["post"], url_path="fix-conflict")
    def fix_conflict(self, request, pk=None):
        return self._start(request, OperationKind.FIX_CONFLICT)

    @extend_schema(request=ActionRequestSerializer, responses={202: OperationSerializer}, parameters=[IDEMPOTENCY_KEY],
                   summary="Break the relationship (copied data stays)")
    @action(detail=True, methods=["post"], url_path="break")
    def break_relationship(self, request, pk=None):
        return self._start(request, OperationKind.BREAK)

    @extend_schema(request=EstablishRequestSerializer, responses={202: OperationSerializer},
                   parameters=[IDEMPOTENCY_KEY], summary="Establish the relationship (pre-checks first)")
    @action(detail=True, methods=["post"])
    def establish(self, request, pk=None):
        pair = self.get_object()
        body = EstablishRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        operation = pair_establish(actor=request.user, pair=pair, key_fingerprint=data.get("key_fingerprint", ""),
                                   reason=data.get("reason", ""), guided=data["guided"],
                                   idempotency_key=_idempotency_key(request))
        return _accepted(operation, request)

    @extend_schema(request=None, responses={200: EstablishCheckSerializer(many=True)}, parameters=[KEY_FINGERPRINT],
                   summary="Run the establish pre-checks without changing anything")
    # A plain list (every check, always): neither paginated nor filtered, and documented so.
    @action(detail=True, methods=["get"], url_path="establish-checks", pagination_class=None, filter_backends=[])
    def establish_checks(self, request, pk=None):
        pair = self.get_object()
        checks = pair_establish_checks(pair=pair, key_fingerprint=request.query_params.get("key_fingerprint", ""))
        return Response(EstablishCheckSerializer(checks, many=True).data)

    @extend_schema(request=SharedIpsRequestSerializer, responses={200: SharedIpsResultSerializer},
                   summary="Set a member's shared IPs (not copied to the peer: set both)")
    @action(detail=True, methods=["post"], url_path="shared-ips")
    def shared_ips(self, request, pk=None):
        pair = self.get_object()
        body = SharedIpsRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        warnings = shared_ips_set(actor=request.user, appliance=pair.member(data["appliance"]),
                                  ips=[str(ip) for ip in data["ips"]],
                                  prefix_length=data["prefix_length"])
        return Response({"warnings": warnings})

    @extend_schema(responses={200: FindingSerializer(many=True)}, summary="Best-practice findings of the pair")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def advice(self, request, pk=None):
        pair = self.get_object()
        return Response(FindingSerializer(advice_list(user=request.user, pair=pair), many=True).data)

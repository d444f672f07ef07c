"""Runbooks, maintenance windows and evacuations over REST: the same services as the pages (docs/runbooks.md).

A runbook is started from its pair (``POST /pairs/{id}/runbooks/``, in pairs.py, with the other actions that start
an operation); here it is read with its steps and what it waits for, confirmed, cancelled, and its change log
written. Operators act, viewers read; the services check the role again and audit.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api.viewsets import Role, TenantReadOnlyViewSet

from ...filtersets import EvacuationFilterSet, MaintenanceWindowFilterSet
from ...maintenance_selectors import evacuation_items_for_display, window_unshown_fields, with_progress
from ...models import Evacuation, MaintenanceWindow, OperationKind
from ...services.evacuations import EVACUATION_ROLE, evacuation_cancel, evacuation_plan, evacuation_start
from ...services.windows import WINDOW_ROLE, change_log_add, window_close, window_schedule
from ..serializers import (
    ActionRequestSerializer,
    ChangeLogEntrySerializer,
    EvacuationDetailSerializer,
    EvacuationSerializer,
    MaintenanceWindowSerializer,
    RunbookSerializer,
)
from .operations import OperationViewSet


class RunbookViewSet(OperationViewSet):
    """Runbooks (planned and unplanned maintenance, pair upgrades, drills): operations of those kinds, with the step
    waiting for a person, the change log and the windows each opened."""

    serializer_class = RunbookSerializer
    prefetch_related = ("steps", "change_log__author", "maintenance_windows")
    action_roles = {**OperationViewSet.action_roles, "change_log": Role.OPERATOR}

    def get_queryset(self):
        return super().get_queryset().filter(kind__in=OperationKind.runbooks())

    @extend_schema(request=None, responses={200: RunbookSerializer},
                   summary="Confirm the step waiting for a person: a checkpoint goes on once what the appliances "
                           "show agrees, a guided step once the portal sees the change (version, build, roles)")
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return super().confirm(request, pk)

    @extend_schema(request=ActionRequestSerializer, responses={200: RunbookSerializer},
                   summary="Cancel a runbook waiting for a person (a safe point; its step says what it leaves)")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return super().cancel(request, pk)

    @extend_schema(request=ChangeLogEntrySerializer, responses={201: ChangeLogEntrySerializer},
                   summary="Log a /login change made on the interim primary (re-applied after the swap back in "
                           "flow 2)")
    @action(detail=True, methods=["post"], url_path="change-log")
    def change_log(self, request, pk=None):
        operation = self.get_object()
        body = ChangeLogEntrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entry = change_log_add(actor=request.user, operation=operation, text=body.validated_data["text"])
        return Response(ChangeLogEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class MaintenanceWindowViewSet(mixins.CreateModelMixin, TenantReadOnlyViewSet):
    """Maintenance windows of a pair or one appliance. POST schedules one (it ends on its own at ``ends_at``);
    ``close`` ends it early. While open: alerts about what it covers are suppressed (recorded as such), the
    portal's automatic failover is paused, and the pair's state is "maintenance"."""

    queryset = MaintenanceWindow.objects.all()
    serializer_class = MaintenanceWindowSerializer
    filterset_class = MaintenanceWindowFilterSet
    select_related = ("pair", "appliance", "created_by")
    ordering_fields = ["starts_at", "ends_at"]
    action_roles = {"create": WINDOW_ROLE, "close": WINDOW_ROLE}

    def get_queryset(self):
        return super().get_queryset().defer(*window_unshown_fields())

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = window_schedule(actor=self.request.user, pair=data.get("pair"),
                                              appliance=data.get("appliance"), starts_at=data["starts_at"],
                                              ends_at=data["ends_at"], reason=data.get("reason", ""))

    @extend_schema(request=None, responses={200: MaintenanceWindowSerializer},
                   summary="Close the window now (the pair leaves maintenance when the probes show it well)")
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        window = window_close(actor=request.user, window=self.get_object())
        return Response(self.get_serializer(window).data)


class EvacuationViewSet(mixins.CreateModelMixin, TenantReadOnlyViewSet):
    """Evacuating a location. POST plans (nothing is touched: the pairs that move, in order, and those that cannot,
    with why); ``start`` runs it with bounded concurrency; ``cancel`` stops starting switchovers (those running
    finish). ``direction=return`` plans bringing back the pairs the location's last evacuation moved."""

    queryset = Evacuation.objects.all()
    serializer_class = EvacuationSerializer
    filterset_class = EvacuationFilterSet
    select_related = ("created_by",)
    ordering_fields = ["created_at"]
    action_roles = {"create": EVACUATION_ROLE, "start": EVACUATION_ROLE, "cancel": EVACUATION_ROLE}

    def get_queryset(self):
        evacuations = with_progress(super().get_queryset())
        if self.action == "list":
            return evacuations  # the counts only: a list loads no item
        return evacuations.prefetch_related(Prefetch("items", queryset=evacuation_items_for_display()))

    def get_serializer_class(self):
        return EvacuationSerializer if self.action == "list" else EvacuationDetailSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        self.require_role_on(data["organization"])
        serializer.instance = evacuation_plan(actor=self.request.user, **data)

    @extend_schema(request=None, responses={200: EvacuationDetailSerializer},
                   summary="Start a planned evacuation (the switchovers are sync-first; each ends with the swing)")
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        evacuation_start(actor=request.user, evacuation=self.get_object())
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=None, responses={200: EvacuationDetailSerializer},
                   summary="Stop: no new switchover starts; those running finish")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        evacuation_cancel(actor=request.user, evacuation=self.get_object())
        return Response(self.get_serializer(self.get_object()).data)

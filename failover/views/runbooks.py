"""Runbook pages: a pair's runbooks (start forms with the refusal reason and the data at risk shown first, drill
schedule and history, its maintenance windows), the change log of a running runbook, the windows list, and the
fleet's drill report."""

from uuid import uuid4

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from portal.forms.base import form_errors_text
from portal.http import posted_next
from portal.models import Role
from portal.permissions import has_role
from portal.views.generic import ObjectListView, TenantViewMixin

from ..exposure_selectors import fleet_exposure
from ..forms import ChangeLogForm, DrillScheduleForm, MaintenanceWindowForm, RunbookForm
from ..maintenance_selectors import (
    drill_report,
    drill_rows,
    pair_maintenance_window,
    window_unshown_fields,
    windows_for_user,
)
from ..models import DrillSchedule, MaintenanceWindow, Operation, OperationKind, OperationStatus, Pair
from ..services.operations import operation_start, runbook_refusal
from ..services.windows import (
    change_log_add,
    drill_refusal,
    drill_schedule_set,
    window_close,
    window_schedule,
)
from .pairs import PairObjectMixin

#: The runbooks a person starts from the pair's runbook page, in the order shown.
STARTABLE = (OperationKind.MAINTENANCE, OperationKind.UNPLANNED_MAINTENANCE, OperationKind.DRILL)


class PairRunbooksView(PairObjectMixin, View):
    required_role = Role.VIEWER
    template_name = "failover/runbooks/pair_runbooks.html"

    def get(self, request, pk):
        return render(request, self.template_name, self.context())

    def context(self, **extra) -> dict:
        pair, user = self.pair, self.request.user
        active = Operation.objects.filter(pair=pair, status__in=OperationStatus.active()).first()
        refusal = (f"{active} is in progress on this pair: one runbook or operation at a time." if active
                   else runbook_refusal(pair, OperationKind.MAINTENANCE))
        schedule = DrillSchedule.objects.filter(pair=pair).first()
        drills = drill_rows(Pair.objects.filter(pk=pair.pk), limit=20)
        key = uuid4().hex
        return {
            "pair": pair, "object": pair, "active_operation": active, "refusal": refusal,
            "planned_form": RunbookForm(initial={"idempotency_key": f"{key}-planned"}),
            "unplanned_form": RunbookForm(initial={"idempotency_key": f"{key}-unplanned"}),
            "drill_form": RunbookForm(initial={"idempotency_key": f"{key}-drill"}),
            "schedule_form": DrillScheduleForm(initial={"enabled": schedule.enabled if schedule else True,
                                                        "every_days": schedule.every_days if schedule else 30}),
            "schedule": schedule, "drill_refusal": drill_refusal(pair, now=timezone.now()), "drills": drills,
            "window_form": MaintenanceWindowForm(initial={"pair": pair.pk}),
            "windows": windows_for_user(user).filter(pair=pair).order_by("-starts_at")[:10],
            "open_window": pair_maintenance_window(pair),
            "can_operate": has_role(user, pair.organization_id, Role.OPERATOR),
            "can_admin": has_role(user, pair.organization_id, Role.ADMIN),
            **extra,
        }


class PairRunbookStartView(PairObjectMixin, View):
    def post(self, request, pk):
        kind = request.POST.get("kind", "")
        if kind not in STARTABLE:
            messages.error(request, "No such runbook.")
            return redirect("failover:pair_runbooks", pk=self.pair.pk)
        form = RunbookForm(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect("failover:pair_runbooks", pk=self.pair.pk)
        data = form.cleaned_data
        params = {"window_minutes": data["window_minutes"]} if data["window_minutes"] else {}
        if kind == OperationKind.UNPLANNED_MAINTENANCE:
            params["login_changed"] = data["login_changed"] or None
        try:
            operation = operation_start(actor=request.user, pair=self.pair, kind=kind, params=params,
                                        reason=data["reason"], idempotency_key=data["idempotency_key"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("failover:pair_runbooks", pk=self.pair.pk)
        messages.success(request, f"{operation.get_kind_display()} started.")
        return redirect(operation.get_absolute_url())


class PairDrillScheduleView(PairObjectMixin, View):
    required_role = Role.ADMIN

    def post(self, request, pk):
        form = DrillScheduleForm(request.POST)
        if form.is_valid():
            try:
                drill_schedule_set(actor=request.user, pair=self.pair, **form.cleaned_data)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Drill schedule saved.")
        else:
            messages.error(request, form_errors_text(form))
        return redirect("failover:pair_runbooks", pk=self.pair.pk)


class ChangeLogAddView(TenantViewMixin, View):
    model = Operation

    def post(self, request, pk):
        operation = get_object_or_404(self.get_base_queryset(), pk=pk)
        form = ChangeLogForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(form_errors_text(form))
            change_log_add(actor=request.user, operation=operation, text=form.cleaned_data["text"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Change logged.")
        return redirect(operation.get_absolute_url())


class WindowListView(ObjectListView):
    model = MaintenanceWindow
    select_related = ("organization", "pair", "appliance", "operation")
    table_template = "failover/runbooks/window_table.html"

    @property
    def defer(self):
        return tuple(window_unshown_fields())


class WindowScheduleView(PairObjectMixin, View):
    def post(self, request, pk):
        form = MaintenanceWindowForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                window_schedule(actor=request.user, pair=self.pair, starts_at=data["starts_at"],
                                ends_at=data["ends_at"], reason=data["reason"])
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, "Maintenance window scheduled.")
        else:
            messages.error(request, " ".join(f"{name}: {e}" for name, errors in form.errors.items() for e in errors))
        return redirect("failover:pair_runbooks", pk=self.pair.pk)


class WindowCloseView(TenantViewMixin, View):
    model = MaintenanceWindow

    def post(self, request, pk):
        window = get_object_or_404(self.get_base_queryset(), pk=pk)
        try:
            window_close(actor=request.user, window=window)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Maintenance window closed.")
        return redirect(posted_next(request, reverse("failover:window_list")))


class DrillReportView(TenantViewMixin, TemplateView):
    """Every pair's drills, fleet-wide: the slowest recovery first."""

    model = Pair
    template_name = "failover/runbooks/drill_report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pairs = self.get_base_queryset().in_organization(self.request.organization)
        rows = drill_report(pairs)
        context.update(rows=rows, failed=sum(1 for drill, _ in rows if drill.status != OperationStatus.SUCCEEDED))
        return context


class ExposureReportView(TenantViewMixin, TemplateView):
    """The fleet's RPO/RTO report: the data at risk now and the worst of the last 90 days, most exposed first."""

    model = Pair
    template_name = "failover/runbooks/exposure_report.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["rows"] = fleet_exposure(self.get_base_queryset().in_organization(self.request.organization))
        return context

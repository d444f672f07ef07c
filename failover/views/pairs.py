"""Pair pages: the list, the pair page (what the appliance's failover page shows, for one pair of the fleet),
add/edit/delete, establish (pre-checks shown first), the action buttons, backup settings and shared IPs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from portal.models import Role
from portal.permissions import has_role, require_role
from portal.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TenantViewMixin,
)

from ..filtersets import PairFilterSet
from ..forms import BackupSettingsForm, EstablishForm, PairForm, ReasonForm, RoleChangeForm, SharedIpsForm
from ..models import BackupSettings, Operation, OperationKind, Pair, PairState, SyncRecord
from ..services.advice import advice_list
from ..services.operations import operation_start
from ..services.pairs import (
    SHARED_IP_WARNING,
    backup_settings_update,
    pair_create,
    pair_delete,
    pair_establish,
    pair_establish_checks,
    pair_update,
    shared_ips_set,
)

RECENT_OPERATIONS = 10
RECENT_SYNCS = 20


class PairListView(ObjectListView):
    model = Pair
    filterset_class = PairFilterSet
    select_related = ("organization", "primary", "backup")
    table_template = "failover/pairs/pair_table.html"
    add_url_name = "failover:pair_add"


def _sync_rows(pair, interval: int) -> list[dict]:
    """Sync history with the overlap warning: a sync longer than the interval runs into the next one."""
    rows = []
    for record in SyncRecord.objects.filter(pair=pair).order_by("-started_at")[:RECENT_SYNCS]:
        duration = record.duration_seconds
        rows.append({"record": record, "overlaps": bool(interval and duration and duration > interval)})
    return rows


class PairDetailView(ObjectDetailView):
    model = Pair
    select_related = ("organization", "primary__backup_settings", "backup__backup_settings")
    prefetch_related = ("primary__addresses", "backup__addresses")
    template_name = "failover/pairs/pair_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pair, user = self.object, self.request.user
        operations = list(
            Operation.objects.filter(pair=pair).select_related("requested_by", "appliance")
            .prefetch_related(Prefetch("steps")).order_by("-created_at")[:RECENT_OPERATIONS]
        )
        backup_settings = getattr(pair.backup, "backup_settings", None)
        context.update(
            pair=pair,
            members=[
                {"appliance": pair.primary, "normal_role": "primary", "settings": getattr(pair.primary, "backup_settings", None),
                 "shared": [a for a in pair.primary.addresses.all() if a.kind == "shared"]},
                {"appliance": pair.backup, "normal_role": "backup", "settings": backup_settings,
                 "shared": [a for a in pair.backup.addresses.all() if a.kind == "shared"]},
            ],
            operations=operations,
            active_operation=next((o for o in operations if o.is_active), None),
            syncs=_sync_rows(pair, backup_settings.sync_interval if backup_settings else 0),
            findings=advice_list(user=user, pair=pair),
            can_operate=has_role(user, pair.organization_id, Role.OPERATOR),
            can_admin=has_role(user, pair.organization_id, Role.ADMIN),
            conflict=pair.state == PairState.CONFLICT or (
                pair.primary.status_role == pair.backup.status_role and pair.primary.status_role in ("primary", "backup")
            ),
            shared_ip_warning=SHARED_IP_WARNING,
        )
        return context


class PairEditView(ObjectEditView):
    model = Pair
    form_class = PairForm

    def save(self, form, instance):
        data = dict(form.cleaned_data)
        if instance is None:
            return pair_create(actor=self.request.user, **data)
        data.pop("organization", None)
        return pair_update(actor=self.request.user, pair=instance, data=data)


class PairDeleteView(ObjectDeleteView):
    model = Pair
    success_url_name = "failover:pair_list"

    def delete(self, instance):
        pair_delete(actor=self.request.user, pair=instance)


class PairObjectMixin(TenantViewMixin):
    """Looks the pair up through the chokepoint first (another organisation's pair is a 404), then checks roles."""

    model = Pair
    required_role = Role.OPERATOR

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.pair = get_object_or_404(self.get_base_queryset().select_related("primary", "backup"), pk=kwargs["pk"])
        require_role(request.user, self.pair.organization_id, self.required_role)
        return super().dispatch(request, *args, **kwargs)


class PairEstablishView(PairObjectMixin, View):
    required_role = Role.ADMIN
    template_name = "failover/pairs/pair_establish.html"

    def get(self, request, pk):
        return self._render(EstablishForm(), checks=pair_establish_checks(pair=self.pair))

    def post(self, request, pk):
        form = EstablishForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                operation = pair_establish(actor=request.user, pair=self.pair, key_fingerprint=data["key_fingerprint"],
                                           reason=data["reason"], guided=data["guided"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Checks passed; the relationship is being established.")
                return redirect(operation.get_absolute_url())
        return self._render(form, checks=None)

    def _render(self, form, checks):
        return render(self.request, self.template_name, {"pair": self.pair, "object": self.pair, "form": form,
                                                         "checks": checks})


class PairOperationView(PairObjectMixin, View):
    """The pair page's action buttons (POST only)."""

    kind: str = ""
    form_class = ReasonForm

    def post(self, request, pk):
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect(self.pair.get_absolute_url())
        try:
            operation = operation_start(actor=request.user, pair=self.pair, kind=self.kind,
                                        reason=form.cleaned_data.get("reason", ""),
                                        idempotency_key=request.POST.get("idempotency_key", ""), **self.operation_arguments(form))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{operation.get_kind_display()} started.")
        return redirect(self.pair.get_absolute_url())

    def operation_arguments(self, form) -> dict:
        return {}


class PairSyncView(PairOperationView):
    kind = OperationKind.SYNC


class PairFixConflictView(PairOperationView):
    kind = OperationKind.FIX_CONFLICT


class PairBreakView(PairOperationView):
    kind = OperationKind.BREAK
    required_role = Role.ADMIN


class PairBecomePrimaryView(PairOperationView):
    kind = OperationKind.BECOME_PRIMARY
    form_class = RoleChangeForm

    def operation_arguments(self, form) -> dict:
        appliance = {self.pair.primary_id: self.pair.primary, self.pair.backup_id: self.pair.backup}.get(
            form.cleaned_data["appliance"]
        )
        if appliance is None:
            raise ValidationError("Choose one of the pair's two appliances.")
        return {"appliance": appliance, "params": {"sync_first": form.cleaned_data["sync_first"],
                                                   "force": form.cleaned_data["force"]}}


class PairBecomeBackupView(PairBecomePrimaryView):
    kind = OperationKind.BECOME_BACKUP


class PairSharedIpsView(PairObjectMixin, View):
    """Shared IPs of one member (``?appliance=ID``), with the reminder that the peer must be set to match."""

    required_role = Role.ADMIN
    template_name = "failover/pairs/pair_shared_ips.html"

    def _appliance(self):
        wanted = self.request.GET.get("appliance", "")
        members = {str(self.pair.primary_id): self.pair.primary, str(self.pair.backup_id): self.pair.backup}
        return members.get(wanted, self.pair.primary)

    def get(self, request, pk):
        appliance = self._appliance()
        current = [str(a.address) for a in appliance.addresses.filter(kind="shared")]
        return self._render(appliance, SharedIpsForm(initial={"ips": ", ".join(current)}))

    def post(self, request, pk):
        appliance = self._appliance()
        form = SharedIpsForm(request.POST)
        if form.is_valid():
            try:
                warnings = shared_ips_set(actor=request.user, appliance=appliance, ips=form.cleaned_data["ips"],
                                          prefix_length=form.cleaned_data["prefix_length"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                for warning in warnings:
                    messages.warning(request, warning)
                return redirect(self.pair.get_absolute_url())
        return self._render(appliance, form)

    def _render(self, appliance, form):
        return render(self.request, self.template_name, {
            "pair": self.pair, "object": self.pair, "appliance": appliance, "form": form,
            "peer": self.pair.peer_of(appliance), "warning": SHARED_IP_WARNING,
        })


class BackupSettingsEditView(ObjectEditView):
    model = BackupSettings
    form_class = BackupSettingsForm
    select_related = ("appliance",)

    def save(self, form, instance):
        return backup_settings_update(actor=self.request.user, backup_settings=instance, data=dict(form.cleaned_data))

    def get_success_url(self):
        pair = Pair.objects.for_user(self.request.user).filter(
            primary=self.object.appliance_id).first() or Pair.objects.for_user(self.request.user).filter(
            backup=self.object.appliance_id).first()
        return pair.get_absolute_url() if pair else self.object.appliance.get_absolute_url()


"""Pair pages: the list, the pair page (what the appliance's failover page shows, for one pair of the fleet),
add/edit/delete, establish (pre-checks shown first), the action buttons, backup settings and shared IPs."""

from uuid import uuid4

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from appliances.models import AddressKind
from portal.forms.base import form_errors_text
from portal.models import Role
from portal.permissions import has_role, require_role
from portal.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TenantViewMixin,
)

from ..adoption_selectors import adoption_proposals
from ..advice_selectors import advice_list
from ..declarations import backup_settings_steps
from ..exposure_selectors import pair_charts
from ..filtersets import PairFilterSet
from ..forms import (
    BackupSettingsForm,
    EstablishForm,
    FixConflictForm,
    PairForm,
    ReasonForm,
    RoleChangeForm,
    SharedIpsForm,
)
from ..models import BackupSettings, OperationKind, Pair, Provenance
from ..operations.fix_conflict import fix_conflict_preview
from ..outage_selectors import OUTAGE_STATES
from ..selectors import (
    PAIR_UNSHOWN_FIELDS,
    appliance_pairs,
    appliance_shared_ips,
    pair_recent_operations,
    pair_recent_syncs,
    pair_roles_conflict,
    pair_sync_cadence,
)
from ..services.autofailover import automatic_failover_owner
from ..services.maintenance import pair_maintenance_set
from ..services.operations import KIND_ROLES, operation_start
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


def _declared_steps(settings_row) -> list[str]:
    return backup_settings_steps(settings_row) if settings_row and settings_row.provenance == Provenance.DECLARED else []


class PairListView(ObjectListView):
    model = Pair
    filterset_class = PairFilterSet
    select_related = ("organization", "primary", "backup")
    table_template = "failover/pairs/pair_table.html"
    add_url_name = "failover:pair_add"
    extra_buttons_template = "failover/adoption/adopt_button.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["adoption_proposals"] = len(adoption_proposals(user=self.request.user,
                                                               organization=self.request.organization))
        return context


class PairDetailView(ObjectDetailView):
    model = Pair
    select_related = ("organization", "primary__backup_settings", "backup__backup_settings")
    prefetch_related = ("primary__addresses", "backup__addresses")
    template_name = "failover/pairs/pair_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pair, user = self.object, self.request.user
        operations = pair_recent_operations(pair=pair)
        context.update(
            pair=pair,
            members=[
                {"appliance": appliance, "normal_role": normal_role,
                 "settings": getattr(appliance, "backup_settings", None),
                 "settings_steps": _declared_steps(getattr(appliance, "backup_settings", None)),
                 "shared": [a for a in appliance.addresses.all() if a.kind == AddressKind.SHARED]}
                for appliance, normal_role in ((pair.primary, "primary"), (pair.backup, "backup"))
            ],
            operations=operations,
            active_operation=next((o for o in operations if o.is_active), None),
            syncs=pair_recent_syncs(pair=pair),
            automatic_failover=automatic_failover_owner(pair),
            # During an outage the outage panel leads; Sync now is not the main button then.
            in_outage=pair.state in OUTAGE_STATES,
            cadence=pair_sync_cadence(pair=pair),
            findings=advice_list(user=user, pair=pair),
            # The buttons follow the services' table: day-to-day actions, then the relationship itself.
            can_operate=has_role(user, pair.organization_id, KIND_ROLES[OperationKind.SYNC]),
            can_admin=has_role(user, pair.organization_id, KIND_ROLES[OperationKind.ESTABLISH]),
            conflict=pair_roles_conflict(pair),
            charts=pair_charts(pair),
            shared_ip_warning=SHARED_IP_WARNING,
            # Each action form carries a key made for this rendering: a double-submitted form (or a resent POST)
            # returns the operation the first submission started instead of starting a second one.
            form_key=uuid4().hex,
        )
        return context


class PairActivityFragmentView(ObjectDetailView):
    """The pair page's live part: the active operation, recent operations, last sync and sync history (htmx polls
    it every few seconds, so a finished swap or a new sync shows without a reload)."""

    model = Pair
    select_related = ("organization",)
    template_name = "failover/pairs/pair_activity.html"

    def get_queryset(self):
        return super().get_queryset().defer(*PAIR_UNSHOWN_FIELDS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        operations = pair_recent_operations(pair=self.object)
        context.update(pair=self.object, operations=operations, syncs=pair_recent_syncs(pair=self.object),
                       cadence=pair_sync_cadence(pair=self.object),
                       active_operation=next((o for o in operations if o.is_active), None))
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
    required_role = KIND_ROLES[OperationKind.ESTABLISH]
    template_name = "failover/pairs/pair_establish.html"

    def get(self, request, pk):
        return self._render(EstablishForm(initial={"idempotency_key": uuid4().hex}),
                            checks=pair_establish_checks(pair=self.pair))

    def post(self, request, pk):
        form = EstablishForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                operation = pair_establish(actor=request.user, pair=self.pair, key_fingerprint=data["key_fingerprint"],
                                           reason=data["reason"], guided=data["guided"],
                                           idempotency_key=data["idempotency_key"])
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
    """The pair page's action buttons (POST only). The role each needs is the services' (KIND_ROLES)."""

    kind: str = ""
    form_class = ReasonForm

    @property
    def required_role(self) -> str:
        return KIND_ROLES[self.kind]

    def post(self, request, pk):
        form = self.form_class(request.POST)
        if not form.is_valid():
            messages.error(request, form_errors_text(form))
            return redirect(self.pair.get_absolute_url())
        try:
            operation = operation_start(actor=request.user, pair=self.pair, kind=self.kind,
                                        reason=form.cleaned_data.get("reason", ""),
                                        idempotency_key=form.cleaned_data.get("idempotency_key", ""),
                                        **self.operation_arguments(form))
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
    """GET: the preview (decision, evidence per criterion, consequences) read live from both members. POST: start
    it, only with the confirmation and the member the preview showed (the operation cancels if that changed)."""

    kind = OperationKind.FIX_CONFLICT
    form_class = FixConflictForm
    template_name = "failover/pairs/pair_fix_conflict.html"

    def get(self, request, pk):
        return render(request, self.template_name, {
            "pair": self.pair, "object": self.pair, "preview": fix_conflict_preview(pair=self.pair),
            "form_key": uuid4().hex,
        })

    def operation_arguments(self, form) -> dict:
        return {"params": {"winner": form.cleaned_data["winner"], "force": form.cleaned_data["force"]}}


class PairBreakView(PairOperationView):
    kind = OperationKind.BREAK


class PairBecomePrimaryView(PairOperationView):
    kind = OperationKind.BECOME_PRIMARY
    form_class = RoleChangeForm

    def operation_arguments(self, form) -> dict:
        return {"appliance": self.pair.member(form.cleaned_data["appliance"]),
                "params": {"sync_first": form.cleaned_data["sync_first"], "force": form.cleaned_data["force"]}}


class PairBecomeBackupView(PairBecomePrimaryView):
    kind = OperationKind.BECOME_BACKUP


class PairMaintenanceView(PairObjectMixin, View):
    """Start (``on=1``) or end maintenance on the pair; bad states are silent meanwhile (two primaries are not)."""

    def post(self, request, pk):
        try:
            pair_maintenance_set(actor=request.user, pair=self.pair, on=request.POST.get("on") == "1",
                                 note=request.POST.get("note", ""))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(self.pair.get_absolute_url())


class PairSharedIpsView(PairObjectMixin, View):
    """Shared IPs of one member (``?appliance=ID``), with the reminder that the peer must be set to match."""

    required_role = Role.ADMIN
    template_name = "failover/pairs/pair_shared_ips.html"

    def _appliance(self):
        wanted = self.request.GET.get("appliance")
        return self.pair.member(wanted) if wanted else self.pair.primary

    def get(self, request, pk):
        try:
            appliance = self._appliance()
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(self.pair.get_absolute_url())
        current = appliance_shared_ips(appliance=appliance)
        return self._render(appliance, SharedIpsForm(initial={"ips": ", ".join(current)}))

    def post(self, request, pk):
        try:
            appliance = self._appliance()
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(self.pair.get_absolute_url())
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
        row = backup_settings_update(actor=self.request.user, backup_settings=instance, data=dict(form.cleaned_data))
        if row.provenance == Provenance.DECLARED:
            messages.info(self.request, f"Declared, not applied: {row.appliance} offers the vendor API only, which "
                                        "cannot set backup settings. To apply them: " + " ".join(_declared_steps(row)))
        return row

    def get_success_url(self):
        pair = appliance_pairs(user=self.request.user, appliance=self.object.appliance_id).first()
        return pair.get_absolute_url() if pair else self.object.appliance.get_absolute_url()


"""Operation pages: the list, one operation with its steps, the live row the pair page polls (htmx), and the
operator's confirm / cancel buttons for guided steps."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from portal.models import Role
from portal.permissions import has_role
from portal.views.generic import ObjectDetailView, ObjectListView, TenantViewMixin

from ..filtersets import OperationFilterSet
from ..models import Operation
from ..services.operations import operation_cancel, operation_confirm

#: Seconds between htmx refreshes of a running operation.
POLL_SECONDS = 2


class OperationListView(ObjectListView):
    model = Operation
    filterset_class = OperationFilterSet
    select_related = ("organization", "pair", "appliance", "requested_by")
    table_template = "failover/operations/operation_table.html"


class OperationDetailView(ObjectDetailView):
    model = Operation
    select_related = ("organization", "pair", "appliance", "requested_by")
    prefetch_related = ("steps",)
    template_name = "failover/operations/operation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(operation=self.object, poll_seconds=POLL_SECONDS,
                       can_operate=has_role(self.request.user, self.object.organization_id, Role.OPERATOR))
        return context


class OperationRowView(OperationDetailView):
    """The operation card alone: what htmx swaps in while the operation runs (stops polling once it ends)."""

    template_name = "failover/operations/operation_card.html"


class _OperationActionView(TenantViewMixin, View):
    """POST only; the object is looked up through the chokepoint first (another organisation's is a 404)."""

    model = Operation

    def post(self, request, pk):
        operation = get_object_or_404(self.get_base_queryset(), pk=pk)
        try:
            self.act(request, operation)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(operation.get_absolute_url())


class OperationConfirmView(_OperationActionView):
    def act(self, request, operation):
        operation_confirm(actor=request.user, operation=operation)
        messages.info(request, "The portal is checking the appliance.")


class OperationCancelView(_OperationActionView):
    def act(self, request, operation):
        operation_cancel(actor=request.user, operation=operation, reason=request.POST.get("reason", ""))
        messages.info(request, "Operation cancelled.")

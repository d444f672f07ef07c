"""RMA pages: the case list, opening a case, the case page (steps as a timeline, next action first), recording
a step, and attachments served only through the tenancy chokepoint."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views import View
from django.views.generic import FormView

from portal.http import attachment_response
from portal.models import Role
from portal.permissions import has_role
from portal.views.generic import ObjectDetailView, ObjectListView, TenantViewMixin

from .filtersets import RmaFilterSet
from .forms import STEP_FORMS, RmaOpenForm, step_data
from .models import RmaAttachment, RmaCase
from .rules import STEP_RULES, next_step, step_blockers
from .selectors import rma_case_steps
from .services import rma_open, rma_record_step


class RmaListView(ObjectListView):
    model = RmaCase
    filterset_class = RmaFilterSet
    select_related = ("appliance", "organization", "pair", "opened_by")
    table_template = "rma/rma_table.html"
    add_url_name = "rma:case_add"
    add_role = Role.OPERATOR

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["now"] = timezone.now()
        return context


class RmaOpenView(TenantViewMixin, FormView):
    model = RmaCase
    form_class = RmaOpenForm
    template_name = "portal/object_edit.html"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        appliance_id = self.request.GET.get("appliance", "")
        return {"appliance": appliance_id} if appliance_id.isdigit() else {}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            case = rma_open(actor=self.request.user, appliance=data["appliance"], reason=data["reason"],
                            vendor_case_number=data["vendor_case_number"])
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{case} opened.")
        return HttpResponseRedirect(case.get_absolute_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


def _step_initial(case: RmaCase, key: str) -> dict:
    if key == "network":
        appliance = case.appliance
        return {"management_host": appliance.management_host, "management_port": appliance.management_port,
                "ca_bundle": appliance.ca_bundle, "tls_pin": appliance.tls_pin}
    if key == "received":
        return {"replacement_model": case.defective_model}
    return {}


def case_context(request, case: RmaCase, bound: dict | None = None) -> dict:
    bound = bound or {}
    steps = rma_case_steps(case=case)
    by_key = {s.key: s for s in steps}
    for step in steps:
        step.case = case
    upcoming = next_step(steps)
    rows = []
    for step in steps:
        blockers = step_blockers(step, by_key)
        rule = STEP_RULES[step.key]
        can_record = not step.is_done and not blockers and has_role(request.user, case.organization_id, rule.role)
        form = bound.get(step.key)
        if form is None and can_record:
            # Several step forms share a page: distinct ids, same field names as the API.
            form = STEP_FORMS[step.key](initial=_step_initial(case, step.key), case=case, user=request.user,
                                        auto_id=f"id_{step.key}_%s")
        rows.append({"step": step, "rule": rule, "blockers": blockers, "form": form if can_record or form else None,
                     "is_next": upcoming is not None and step.pk == upcoming.pk})
    rows.sort(key=lambda row: (not row["is_next"], row["step"].position))
    return {"object": case, "case": case, "rows": rows, "next": upcoming, "now": timezone.now(),
            "days_open": ((case.closed_at or timezone.now()) - case.created_at).days}


class RmaDetailView(ObjectDetailView):
    model = RmaCase
    select_related = ("appliance", "organization", "pair", "opened_by", "restore_backup")
    template_name = "rma/rma_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(case_context(self.request, self.object))
        return context


class RmaStepView(TenantViewMixin, View):
    """POST one step of a case (the step's key in the form)."""

    model = RmaCase
    http_method_names = ["post"]

    def post(self, request, pk):
        case = get_object_or_404(self.get_base_queryset().select_related("appliance", "pair", "organization"), pk=pk)
        key = request.POST.get("step", "")
        if key not in STEP_FORMS:
            raise Http404("No such step.")
        form = STEP_FORMS[key](request.POST, request.FILES, case=case, user=request.user, auto_id=f"id_{key}_%s")
        if form.is_valid():
            files = [form.cleaned_data["attachment"]] if form.cleaned_data.get("attachment") else []
            try:
                step = rma_record_step(actor=request.user, case=case, key=key, data=step_data(form),
                                       notes=form.cleaned_data["notes"], attachments=files)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Recorded: {step} — {step.get_state_display().lower()}.")
                return HttpResponseRedirect(case.get_absolute_url())
        case.refresh_from_db()
        return render(request, "rma/rma_detail.html", case_context(request, case, {key: form}), status=400)


class RmaAttachmentView(TenantViewMixin, View):
    model = RmaAttachment

    def get(self, request, pk):
        attachment = get_object_or_404(self.get_base_queryset(), pk=pk)
        return attachment_response(
            attachment.file.open("rb"), filename=attachment.original_name, content_type=attachment.content_type
        )


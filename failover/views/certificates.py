"""A pair's certificate pages: parity of its two members (checked from the wire on demand) and replication of
the primary's certificate to the backup. Mounted under /certificates/pairs/ (portal/urls.py), where they were."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse

from certificates.selectors import certificate_list, with_warnings
from certificates.views import ObjectActionView
from portal.http import posted_next
from portal.models import Role
from portal.permissions import has_role, require_role
from portal.views.generic import ObjectEditView

from ..forms import PairReplicateForm
from ..models import Pair
from ..selectors import pair_certificate_parity
from ..services.certificates import pair_certificate_replicate, pair_certificates_check


class PairCheckView(ObjectActionView):
    model = Pair

    def perform(self, pair):
        return pair_certificates_check(pair=pair).parity.reason

    def success_url(self, pair):
        return posted_next(self.request, pair_replicate_url(pair))


def pair_replicate_url(pair) -> str:
    return reverse("pair_certificates:pair", args=[pair.pk])


class PairCertificatesView(ObjectEditView):
    """The pair's certificate parity, and the replication form (operator)."""

    model = Pair
    form_class = PairReplicateForm
    template_name = "failover/certificates/pair_certificates.html"
    required_role = Role.VIEWER  # reading parity; replicating is checked again on POST and in the service

    def get_base_queryset(self):
        return Pair.objects.for_user(self.request.user).select_related("primary", "backup", "organization")

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        kwargs["pair"] = self.object
        return kwargs

    def post(self, request, *args, **kwargs):
        require_role(request.user, self.object.organization_id, Role.OPERATOR)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pair = self.object
        context.update(
            pair=pair,
            parity=pair_certificate_parity(pair),
            can_operate=has_role(self.request.user, pair.organization_id, Role.OPERATOR),
            primary_certificates=with_warnings(certificate_list(user=self.request.user).filter(appliance=pair.primary)),
            backup_certificates=with_warnings(certificate_list(user=self.request.user).filter(appliance=pair.backup)),
        )
        return context

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            result = pair_certificate_replicate(
                actor=self.request.user, pair=self.object, certificate=data["certificate"],
                data=data["file"].read() if data["file"] else None, passphrase=data["passphrase"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        if result.check is not None:
            messages.success(self.request, f"{result.message} {result.check.parity.reason}")
        else:
            messages.warning(self.request, result.message)
        return HttpResponseRedirect(pair_replicate_url(self.object))

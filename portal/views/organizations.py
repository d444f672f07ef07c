from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.views.decorators.http import require_POST

from ..filtersets import MembershipFilterSet
from ..forms import MembershipForm, OrganizationForm
from ..http import posted_next
from ..middleware import SESSION_KEY
from ..models import Membership, Organization
from ..services.common import model_update
from ..services.organizations import (
    MEMBERSHIP_ROLES,
    membership_change_role,
    membership_remove,
    organization_create,
)
from .generic import ObjectDeleteView, ObjectEditView, ObjectListView


@login_required
@require_POST
def organization_switch(request):
    organization_id = request.POST.get("organization") or ""
    if organization_id.isdigit() and Organization.objects.for_user(request.user).filter(pk=organization_id).exists():
        request.session[SESSION_KEY] = int(organization_id)
    else:
        request.session.pop(SESSION_KEY, None)
    return HttpResponseRedirect(posted_next(request, "/"))


class PlatformOperatorRequired:
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.sees_all_organizations:
            raise PermissionDenied("Only platform operators manage organisations.")
        return super().dispatch(request, *args, **kwargs)


class OrganizationListView(PlatformOperatorRequired, ObjectListView):
    model = Organization
    table_template = "portal/includes/organization_table.html"
    add_url_name = "portal:organization_add"

    def get_queryset(self):
        self.filterset = None
        return self.get_base_queryset()


class OrganizationEditView(ObjectEditView):
    model = Organization
    form_class = OrganizationForm

    def dispatch(self, request, *args, **kwargs):
        if "pk" not in kwargs and request.user.is_authenticated and not request.user.sees_all_organizations:
            raise PermissionDenied("Only platform operators create organisations.")
        return super().dispatch(request, *args, **kwargs)

    def save(self, form, instance):
        if instance is None:
            return organization_create(actor=self.request.user, **form.cleaned_data)
        return model_update(actor=self.request.user, instance=instance, data=form.cleaned_data, fields=list(form.cleaned_data))[0]

    def get_success_url(self):
        return "/organizations/" if self.request.user.sees_all_organizations else "/"


class OrganizationDeleteView(ObjectDeleteView):
    model = Organization
    success_url_name = "portal:organization_list"

    def check_permission(self, obj) -> None:
        # After the lookup, so another organisation still answers 404 rather than 403.
        if not self.request.user.sees_all_organizations:
            raise PermissionDenied("Only platform operators delete organisations.")


class MembershipListView(ObjectListView):
    model = Membership
    add_role = MEMBERSHIP_ROLES["create"]
    select_related = ("user", "organization")
    filterset_class = MembershipFilterSet
    table_template = "portal/includes/membership_table.html"
    # People join by invitation: "Add" opens the invitation form.
    add_url_name = "portal:invitation_add"


class MembershipEditView(ObjectEditView):
    model = Membership
    form_class = MembershipForm
    required_role = MEMBERSHIP_ROLES["update"]
    select_related = ("user", "organization")

    def dispatch(self, request, *args, **kwargs):
        if "pk" not in kwargs:
            raise Http404("Members join by invitation.")
        return super().dispatch(request, *args, **kwargs)

    def save(self, form, instance):
        return membership_change_role(actor=self.request.user, membership=instance, role=form.cleaned_data["role"])

    def get_success_url(self):
        return "/members/"


class MembershipDeleteView(ObjectDeleteView):
    model = Membership
    required_role = MEMBERSHIP_ROLES["delete"]
    success_url_name = "portal:membership_list"

    def delete(self, instance):
        membership_remove(actor=self.request.user, membership=instance)


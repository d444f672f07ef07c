"""Invitations in the browser: admins invite and revoke; the invited person accepts by signing in or by creating
an account. The accept page needs no session, answers the same for a used, revoked, expired or made-up link, and
is never cached (the link is a secret)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..forms import AcceptInvitationSignupForm, InvitationForm
from ..models import Invitation, Organization
from ..services.invitations import (
    INVALID_LINK,
    invitation_accept,
    invitation_create,
    invitation_for_secret,
    invitation_revoke,
)
from ..services.organizations import MEMBERSHIP_ROLES
from .generic import ObjectEditView, ObjectListView

SIGN_IN_BACKEND = "portal.auth_backends.PlatformOperatorBackend"


def _admin_organizations(user):
    return Organization.objects.for_user(user, role=MEMBERSHIP_ROLES["create"])


class InvitationListView(ObjectListView):
    model = Invitation
    select_related = ("organization", "invited_by", "accepted_by")
    table_template = "portal/includes/invitation_table.html"
    add_url_name = "portal:invitation_add"

    def get_base_queryset(self):
        # Invitee addresses are for the organisation's admins only.
        return super().get_base_queryset().filter(organization__in=_admin_organizations(self.request.user))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["new_invitation_url"] = self.request.session.pop("new_invitation_url", None)
        return context


class InvitationCreateView(ObjectEditView):
    model = Invitation
    form_class = InvitationForm

    def save(self, form, instance):
        invitation, accept_url = invitation_create(
            actor=self.request.user, **form.cleaned_data,
            accept_url_for=lambda secret: self.request.build_absolute_uri(
                reverse("portal:invitation_accept", args=[secret])),
        )
        # Shown once on the next page, for an admin who passes the link on another way.
        self.request.session["new_invitation_url"] = accept_url
        return invitation

    def get_success_url(self):
        return reverse("portal:invitation_list")


@login_required
@require_POST
def invitation_revoke_view(request, pk):
    invitation = get_object_or_404(Invitation.objects.for_user(request.user, role=MEMBERSHIP_ROLES["create"]), pk=pk)
    invitation_revoke(actor=request.user, invitation=invitation)
    messages.success(request, f"Invitation of {invitation.email} revoked.")
    return redirect("portal:invitation_list")


invitation_revoke_view.model = Invitation  # for the generic route tests: this route's object is an invitation


@never_cache
def invitation_accept_view(request, secret):
    invitation = invitation_for_secret(secret)
    if invitation is None:
        return render(request, "portal/invitation_accept.html", {"invalid": INVALID_LINK}, status=404)
    signup = AcceptInvitationSignupForm(
        request.POST if request.method == "POST" and not request.user.is_authenticated else None,
        email=invitation.email,
    )
    if request.method == "POST" and (request.user.is_authenticated or signup.is_valid()):
        try:
            with transaction.atomic():
                # One transaction: an account is created only if the invitation is still good when accepted.
                user = request.user if request.user.is_authenticated else signup.save()
                membership = invitation_accept(user=user, secret=secret)
        except ValidationError as exc:
            return render(request, "portal/invitation_accept.html", {"invalid": " ".join(exc.messages)}, status=404)
        if not request.user.is_authenticated:
            # Named, not AUTHENTICATION_BACKENDS[0]: a lockout backend placed first (django-axes) cannot load users.
            login(request, user, backend=SIGN_IN_BACKEND)
        messages.success(request, f"You are a member of {membership.organization.name}.")
        return redirect("portal:dashboard")
    return render(request, "portal/invitation_accept.html", {
        "invitation": invitation, "signup": signup,
        "login_url": f"{reverse('login')}?next={request.path}",
    })

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..models import ApiToken
from ..services.tokens import api_token_create, api_token_revoke


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for.")
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for a token that does not expire.",
    )


@never_cache  # Cache-Control: no-store: the page shows a new token's secret once, no cache may keep it
@login_required
def token_list(request):
    """The caller's own tokens. A new token's secret is shown on this page once, right after creation."""
    form = ApiTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_token = api_token_create(actor=request.user, **form.cleaned_data)
        except forms.ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Token created. Copy it now: it will not be shown again.")
    tokens = ApiToken.objects.filter(user=request.user)
    return render(request, "portal/token_list.html", {"form": form, "tokens": tokens, "new_token": new_token})


@login_required
@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("portal:token_list")


# Lets the generic route tests know which object the id in the URL names.
token_revoke.model = ApiToken

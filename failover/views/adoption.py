"""Adopting existing pairs in the browser: the pairs the probes propose (one click each), a form for any two
appliances, and a CSV upload for hundreds at once."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from appliances.forms import ApplianceImportForm

from ..adoption_selectors import adoption_proposals
from ..forms import AdoptForm
from ..services.adoption import CSV_COLUMNS, pair_adopt, pairs_adopt_csv

TEMPLATE = "failover/adoption/pair_adopt.html"


def _page(request, *, form, csv_form, result=None, status=200):
    return render(request, TEMPLATE, {
        "form": form, "csv_form": csv_form, "result": result, "columns": CSV_COLUMNS,
        "proposals": adoption_proposals(user=request.user, organization=request.organization),
    }, status=status)


@login_required
def pair_adopt_view(request):
    form = AdoptForm(request.POST or None, user=request.user, initial=request.GET.dict())
    csv_form = ApplianceImportForm(user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pair = pair_adopt(actor=request.user, first=data["first"], second=data["second"],
                              site_hostname=data["site_hostname"], normal_primary=data["normal_primary"],
                              network=form.network())
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"Adopted {pair.site_hostname}: {pair.primary} (primary) and {pair.backup} "
                                      "(backup). Nothing was changed on the appliances.")
            return redirect(pair.get_absolute_url())
    return _page(request, form=form, csv_form=csv_form, status=400 if request.method == "POST" else 200)


@login_required
def pair_adopt_csv_view(request):
    if request.method != "POST":
        return redirect("failover:pair_adopt")
    csv_form = ApplianceImportForm(request.POST, request.FILES, user=request.user)
    result = None
    if csv_form.is_valid():
        result = pairs_adopt_csv(actor=request.user, organization=csv_form.cleaned_data["organization"],
                                 data=csv_form.cleaned_data["file"].read())
        if result.ok:
            messages.success(request, f"Adopted {len(result.created)} pair(s); nothing was changed on the appliances.")
            return redirect("failover:pair_list")
    return _page(request, form=AdoptForm(user=request.user), csv_form=csv_form, result=result, status=400)

"""Adopting existing pairs in the browser: the pairs the probes propose (one click each), a form for any two
appliances, and a CSV upload for hundreds at once."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from appliances.forms import ApplianceImportForm
from portal.models import Role

from ..adoption_selectors import adoption_proposals
from ..forms import AdoptForm
from ..models import PairAdoptionImport
from ..services.adoption import CSV_COLUMNS, pair_adopt, pairs_adopt_csv_request

TEMPLATE = "failover/adoption/pair_adopt.html"


def _page(request, *, form, csv_form, status=200):
    return render(request, TEMPLATE, {
        "form": form, "csv_form": csv_form, "columns": CSV_COLUMNS,
        "recent": PairAdoptionImport.objects.for_user(request.user, role=Role.ADMIN).defer("content")[:5],
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
    if csv_form.is_valid():
        upload = csv_form.cleaned_data["file"]
        try:
            job = pairs_adopt_csv_request(actor=request.user, organization=csv_form.cleaned_data["organization"],
                                          data=upload.read(), filename=upload.name or "")
        except ValidationError as exc:
            csv_form.add_error("file", exc)
        else:
            return redirect(job.get_absolute_url())
    return _page(request, form=AdoptForm(user=request.user), csv_form=csv_form, status=400)


@login_required
def pair_adoption_status(request, pk):
    """The CSV adoption's progress; the page reloads itself until the worker has finished."""
    job = get_object_or_404(PairAdoptionImport.objects.for_user(request.user, role=Role.ADMIN).defer("content"), pk=pk)
    return render(request, "portal/csv_job_status.html", {
        "job": job, "verb": "adoption", "failed_verb": "adopted", "noun": "pair",
        "done_note": "Nothing was changed on the appliances.",
        "done_url": reverse("failover:pair_list"), "done_label": "Pairs", "again_url": reverse("failover:pair_adopt"),
    })


pair_adoption_status.model = PairAdoptionImport  # for the generic route tests

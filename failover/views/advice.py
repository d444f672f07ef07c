"""The fleet-wide best-practice page: findings across every pair the user can see, filterable."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from ..advice_selectors import advice_list
from ..forms import AdviceFilterForm


class AdviceListView(LoginRequiredMixin, TemplateView):
    template_name = "failover/advice/advice_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = AdviceFilterForm(self.request.GET or None, user=self.request.user)
        filters = form.cleaned_data if form.is_valid() else {}
        organization = filters.get("organization") or getattr(self.request, "organization", None)
        context.update(
            filter_form=form,
            findings=advice_list(user=self.request.user, organization=organization, code=filters.get("code", ""),
                                 severity=filters.get("severity", ""), q=filters.get("q", "")),
        )
        return context

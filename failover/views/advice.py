"""The fleet-wide best-practice page: findings across every pair the user can see, grouped by rule with their
counts, filterable, and paginated (a platform operator's fleet has thousands of findings). It reads the stored
findings (kept up to date on change by failover.services.advice): two counts and a page of rows."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.views.generic import TemplateView

from ..advice_selectors import advice_groups, advice_list
from ..forms import AdviceFilterForm


class AdviceListView(LoginRequiredMixin, TemplateView):
    template_name = "failover/advice/advice_list.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = AdviceFilterForm(self.request.GET or None, user=self.request.user)
        filters = form.cleaned_data if form.is_valid() else {}
        organization = filters.get("organization") or getattr(self.request, "organization", None)
        findings = advice_list(user=self.request.user, organization=organization, code=filters.get("code", ""),
                               severity=filters.get("severity", ""), q=filters.get("q", ""))
        page_obj = Paginator(findings, self.paginate_by).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        groups = []
        for group in advice_groups(findings):
            only_this = query.copy()
            only_this["code"] = group.code
            groups.append((group, only_this.urlencode()))
        context.update(filter_form=form, groups=groups, findings=page_obj.object_list, page_obj=page_obj,
                       paginator=page_obj.paginator, is_paginated=page_obj.has_other_pages(),
                       query_string=query.urlencode())
        return context

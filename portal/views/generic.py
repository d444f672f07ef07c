"""Generic list / detail / edit / delete views every app builds on (NetBox's generic views are the model).

Each view reads through ``Model.objects.for_user`` (another organisation's object is a 404) and checks the
membership role needed for writes (a 403 on an object the user can see but may not change).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, FormView, ListView, TemplateView

from ..models import Organization, Role
from ..permissions import require_role
from ..services.common import model_delete


class TenantViewMixin(LoginRequiredMixin):
    model = None
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = ()
    # Columns a page never shows (encrypted secrets above all: loading a row decrypts them).
    defer: tuple[str, ...] = ()

    def get_base_queryset(self):
        queryset = self.model.objects.for_user(self.request.user)
        if self.defer:
            queryset = queryset.defer(*self.defer)
        if self.select_related:
            queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
        return queryset

    def organization_of(self, obj):
        return obj.pk if isinstance(obj, Organization) else obj.organization_id

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["model_meta"] = self.model._meta
        return context


class ObjectListView(TenantViewMixin, ListView):
    template_name = "portal/object_list.html"
    table_template: str = ""
    filterset_class = None
    paginate_by = 50
    add_role = Role.ADMIN
    add_url_name: str = ""
    extra_buttons_template: str = ""

    def get_queryset(self):
        queryset = self.get_base_queryset().in_organization(self.request.organization)
        if self.filterset_class is None:
            self.filterset = None
            return queryset
        self.filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            # An invalid filter shows its error and no rows, rather than silently the unfiltered list.
            return queryset.none()
        return self.filterset.qs

    def get_paginate_by(self, queryset):
        per_page = self.request.GET.get("per_page", "")
        return min(int(per_page), 500) if per_page.isdigit() and int(per_page) > 0 else self.paginate_by

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter_form=self.filterset.form if self.filterset else None,
            table_template=self.table_template,
            extra_buttons_template=self.extra_buttons_template,
            query_string=query.urlencode(),
            can_add=bool(self.add_url_name)
            and Organization.objects.for_user(self.request.user, role=self.add_role).exists(),
            add_url=reverse(self.add_url_name) if self.add_url_name else "",
        )
        return context


class ObjectDetailView(TenantViewMixin, DetailView):
    def get_queryset(self):
        return self.get_base_queryset()


class ObjectEditView(TenantViewMixin, FormView):
    """Create (no pk) or edit (pk) through a service. Subclasses implement ``save(form, instance)``."""

    template_name = "portal/object_edit.html"
    required_role = Role.ADMIN

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = None
        if "pk" in kwargs:
            self.object = get_object_or_404(self.get_base_queryset(), pk=kwargs["pk"])
            self.check_permission(self.object)
        return super().dispatch(request, *args, **kwargs)

    def check_permission(self, obj) -> None:
        require_role(self.request.user, self.organization_of(obj), self.required_role)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, organization=self.request.organization)
        if self.object is not None:
            # A fresh copy: ModelForm validation mutates its instance, and the service must diff
            # the stored values against the submitted ones to audit the change.
            kwargs["instance"] = self.get_base_queryset().get(pk=self.object.pk)
        return kwargs

    def form_valid(self, form):
        try:
            self.object = self.save(form, self.object)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"{self.model._meta.verbose_name.capitalize()} “{self.object}” saved.")
        return HttpResponseRedirect(self.get_success_url())

    def save(self, form, instance):
        raise NotImplementedError

    def get_success_url(self):
        return self.object.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        return context


class ObjectDeleteView(TenantViewMixin, TemplateView):
    template_name = "portal/object_delete.html"
    required_role = Role.ADMIN
    success_url_name = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = get_object_or_404(self.get_base_queryset(), pk=kwargs["pk"])
        self.check_permission(self.object)
        return super().dispatch(request, *args, **kwargs)

    def check_permission(self, obj) -> None:
        require_role(self.request.user, self.organization_of(obj), self.required_role)

    def delete(self, instance):
        model_delete(actor=self.request.user, instance=instance)

    def post(self, request, *args, **kwargs):
        label = str(self.object)
        try:
            self.delete(self.object)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(request.path)
        messages.success(request, f"{self.model._meta.verbose_name.capitalize()} “{label}” deleted.")
        return HttpResponseRedirect(reverse(self.success_url_name))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        return context

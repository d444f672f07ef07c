"""Form base classes. Related-field choices go through the tenancy chokepoint."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from ..models import Organization, Role


def form_errors_text(form) -> str:
    """A form's errors as one sentence for a flash message, where the form posts from a page that shows no fields
    of its own (a button with a hidden input or two)."""
    return " ".join(error for errors in form.errors.values() for error in errors)


def narrow_choices_for_user(fields: dict, user, role: str) -> None:
    """Limit every model-choice field to rows the user may use at ``role`` (organisations included)."""
    for field in fields.values():
        queryset = getattr(field, "queryset", None)
        if queryset is not None and hasattr(queryset, "for_user"):
            field.queryset = queryset.for_user(user, role=role)


class TenantModelForm(forms.ModelForm):
    """A model form for tenant-owned rows: choices scoped to the user, organisation fixed after creation."""

    required_role = Role.ADMIN
    submit_label = "Save"

    def __init__(self, *args, user, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        narrow_choices_for_user(self.fields, user, self.required_role)
        if "organization" in self.fields:
            if self.instance.pk:
                self.fields["organization"].disabled = True
            elif organization is not None:
                self.fields["organization"].initial = organization.pk
            if self.fields["organization"].queryset.count() == 1 and not self.instance.pk:
                self.fields["organization"].initial = self.fields["organization"].queryset.get().pk
        self.helper = FormHelper(self)
        self.helper.add_input(Submit("submit", self.submit_label))


class OrganizationChoiceForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.all(), required=False, empty_label="All organisations")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.for_user(user)

"""Template helpers of the certificate pages (labels and classes of the warnings, fingerprints)."""

from django import template

register = template.Library()

_SEVERITY_CLASSES = {"error": "text-bg-danger", "warning": "text-bg-warning", "info": "text-bg-info"}


@register.filter
def warning_label(code) -> str:
    return str(code).replace("_", " ").capitalize()


@register.filter
def severity_class(severity) -> str:
    return _SEVERITY_CLASSES.get(str(severity), "text-bg-secondary")


@register.filter
def colon_hex(value) -> str:
    value = value or ""
    return ":".join(value[i : i + 2] for i in range(0, len(value), 2)).upper()

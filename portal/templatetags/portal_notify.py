from django import template
from django.core.exceptions import ValidationError

from ..notifications.matchers import matchers_text

register = template.Library()


@register.filter
def matchers(value) -> str:
    """Stored matchers as Alertmanager's text form."""
    try:
        return matchers_text(value)
    except (ValidationError, TypeError):  # a page never fails on a stored value; forms validate writes
        return str(value)

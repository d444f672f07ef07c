from django import template

register = template.Library()


@register.filter
def step_detail_label(key: str) -> str:
    """``default_password_changed`` -> ``Default password changed`` for the case timeline."""
    return str(key).replace("_", " ").capitalize()

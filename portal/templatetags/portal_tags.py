import contextlib

from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.inclusion_tag("portal/includes/nav_link.html", takes_context=True)
def nav_link(context, url_name: str, label: str, icon: str = "", exclude: str = ""):
    """A navigation entry that only shows once its app provides the route. ``exclude`` names a route below this
    one that has its own entry (RMA lives under /appliances/), so only one entry is highlighted."""
    try:
        url = reverse(url_name)
    except NoReverseMatch:
        return {"url": None}
    request = context.get("request")
    path = request.path if request is not None else ""
    active = path.startswith(url) and (url != "/" or path == "/")
    if active and exclude:
        with contextlib.suppress(NoReverseMatch):
            active = not path.startswith(reverse(exclude))
    return {"url": url, "label": label, "icon": icon, "active": active}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def querystring_with(context, **kwargs):
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        query[key] = value
    return query.urlencode()

"""Route discovery for the generic tests: every UI URL and API route, found from the URLconf itself, so a route
added later is covered without editing the tests."""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    callback: object
    takes_pk: bool

    @property
    def is_api(self) -> bool:
        return self.pattern.startswith("api/v1/")

    @property
    def model(self):
        """The model a route's object belongs to, read from the view: ``model`` on class-based views,
        the viewset's queryset on API routes, ``model`` set on function views."""
        view_class = getattr(self.callback, "view_class", None)
        if view_class is not None and getattr(view_class, "model", None) is not None:
            return view_class.model
        viewset = getattr(self.callback, "cls", None)
        if viewset is not None and getattr(viewset, "queryset", None) is not None:
            return viewset.queryset.model
        return getattr(self.callback, "model", None)

    @property
    def api_actions(self) -> dict:
        return getattr(self.callback, "actions", {}) or {}

    def url(self, pk=None) -> str:
        path = self.pattern
        for token in ("<int:pk>", "(?P<pk>[^/.]+)"):
            path = path.replace(token, str(pk))
        return "/" + path.replace("^", "").replace("$", "").replace("\\.", ".")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def portal_routes() -> list[Route]:
    routes = []
    for pattern, entry in _walk(get_resolver().url_patterns):
        if pattern.startswith(("admin/", "^admin/")) or "format" in pattern:
            continue
        # Only routes whose one parameter is the object id: the tests know how to fill that in.
        if "<" in pattern.replace("<int:pk>", "").replace("(?P<pk>[^/.]+)", ""):
            continue
        takes_pk = "<int:pk>" in pattern or "(?P<pk>" in pattern
        routes.append(Route(pattern=pattern, name=entry.name or "", callback=entry.callback, takes_pk=takes_pk))
    return routes

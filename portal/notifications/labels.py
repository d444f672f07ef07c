"""An alert's labels: what routes and silences match on. ``kind`` and ``severity`` always; the rest comes from
the apps that registered the alert's scope and target (``register_alert_link(labels=...)``): ``pair``,
``appliance``, and ``location`` / ``tags`` where the object has them."""

from ..alerts import ObjectSummary, alert_links


def _linked(alert, link):
    if getattr(alert, f"{link.name}_id", None) is None:
        return None
    return getattr(alert, link.name)


def alert_labels(alert, extra: dict | None = None) -> dict:
    labels = {"kind": alert.kind, "severity": alert.severity}
    for slot in ("scope", "target"):
        for link in alert_links(slot):
            obj = _linked(alert, link)
            if obj is not None and link.labels is not None:
                labels.update({k: v for k, v in link.labels(obj).items() if v not in (None, "", [])})
    labels.update(extra or {})
    return labels


def alert_object(alert):
    """The object a message links to: the scope (the pair) first, else the target (the appliance)."""
    for slot in ("scope", "target"):
        for link in alert_links(slot):
            obj = _linked(alert, link)
            if obj is not None:
                return obj, link
    return None, None


def alert_summary(alert) -> ObjectSummary:
    obj, link = alert_object(alert)
    if obj is None or link.summary is None:
        return ObjectSummary()
    return link.summary(obj)

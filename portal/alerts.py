"""Alert kinds: each app declares its own (a ``TextChoices``) and registers it at startup in ``AppConfig.ready``,
so the portal records and delivers alerts without knowing the apps that raise them."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ImproperlyConfigured

#: (value, label) of every registered kind, in registration order. A list filled in place, so the API schema
#: settings can name it before the apps are ready.
ALERT_KIND_CHOICES: list[tuple[str, str]] = []


def register_alert_kinds(kinds) -> None:
    """Register a ``TextChoices`` of alert kinds. Registering the same kinds again (tests, autoreload) is a no-op;
    two apps claiming one value with different meanings is a configuration error."""
    known = dict(ALERT_KIND_CHOICES)
    for value, label in kinds.choices:
        if value in known:
            if known[value] != label:
                raise ImproperlyConfigured(f"Alert kind {value!r} is registered twice ({known[value]!r}, {label!r}).")
            continue
        ALERT_KIND_CHOICES.append((value, label))


def alert_kind_choices() -> list[tuple[str, str]]:
    """The ``choices`` of ``Alert.kind`` (a callable: the kinds are known once the apps are ready)."""
    return list(ALERT_KIND_CHOICES)


@dataclass(frozen=True)
class ObjectSummary:
    """What a message says about the alert's object now: its state, since when, and what to do next."""

    state: str = ""
    since: datetime | None = None
    next_action: str = ""


@dataclass(frozen=True)
class AlertLink:
    name: str
    slot: str
    model: type
    #: ``labels(obj) -> dict`` routing labels of the object (``{"pair": "shop.example.com"}``).
    labels: Callable[[object], dict] | None
    #: ``summary(obj) -> ObjectSummary``.
    summary: Callable[[object], ObjectSummary] | None


#: Registered links by slot ("scope", "target"), in registration order.
ALERT_LINKS: dict[str, list[AlertLink]] = {"scope": [], "target": []}


def alert_links(slot: str) -> list[AlertLink]:
    return list(ALERT_LINKS[slot])


def register_alert_link(name: str, *, slot: str, model, labels: Callable[[object], dict] | None = None,
                        summary: Callable[[object], ObjectSummary] | None = None) -> None:
    """Name an alert's generic reference after what an app puts there: with ``("pair", slot="scope",
    model=Pair)``, ``alert.pair`` / ``alert.pair_id`` are the alert's scope when it is a pair, else None (and
    ``Alert(pair=...)`` sets the scope). The app calls it in ``AppConfig.ready``; querying by that name comes
    from the app's ``GenericRelation(..., related_query_name=name)``. ``labels`` gives the object's routing
    labels (what routes and silences match on) and ``summary`` what a message says about it."""
    # Imported here: the Alert model imports this module (its kind choices), and ContentType needs the app
    # registry, which is ready by the time an app's ready() calls this.
    from django.contrib.contenttypes.models import ContentType

    from .models import Alert

    type_field, id_field = f"{slot}_type_id", f"{slot}_id"
    ALERT_LINKS[slot][:] = [link for link in ALERT_LINKS[slot] if link.name != name]
    ALERT_LINKS[slot].append(AlertLink(name=name, slot=slot, model=model, labels=labels, summary=summary))

    def is_linked(alert) -> bool:
        type_id = getattr(alert, type_field)
        return type_id is not None and type_id == ContentType.objects.get_for_model(model).pk

    def get_object(alert):
        return getattr(alert, slot) if is_linked(alert) else None

    def set_object(alert, value):
        setattr(alert, slot, value)

    setattr(Alert, name, property(get_object, set_object))
    setattr(Alert, f"{name}_id", property(lambda alert: getattr(alert, id_field) if is_linked(alert) else None))


#: ``silencer(alert) -> str``: why the alert should reach nobody ("" when it should). See ``register_silencer``.
SILENCERS: dict[str, Callable[[object], str]] = {}


def register_silencer(name: str, silencer: Callable[[object], str]) -> None:
    """Let an app above mute alerts about what it covers: rma's open replacement cases, failover's maintenance
    windows. Called at raise time with the new alert (its ``scope``/``target`` set); a non-empty answer is
    recorded as the alert's ``suppressed_reason`` and nobody is notified. Keyed by name (a second ``ready()``
    replaces)."""
    SILENCERS[name] = silencer

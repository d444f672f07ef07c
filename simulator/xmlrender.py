"""XML answers of the command API, in the documented namespace and with the documented omissions."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from . import VENDOR_XML_NAMESPACE, XML_NAMESPACE
from .appliance import Appliance, iso

API_VERSION = "1.24.3"


@dataclass
class Element:
    """The little of an XML element the simulator writes: this module only *builds* XML (escaping text and
    attributes), it never parses any, so it needs no XML library at all."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    children: list[Element] = field(default_factory=list)

    def render(self) -> str:
        attrs = "".join(f" {name}={quoteattr(value)}" for name, value in self.attrs.items())
        inner = escape(self.text or "") + "".join(child.render() for child in self.children)
        return f"<{self.tag}{attrs}>{inner}</{self.tag}>" if inner else f"<{self.tag}{attrs} />"


def namespace_of(appliance: Appliance | None) -> str:
    """Real appliances still answer in the older Bomgar namespace; clients must match local names only."""
    return VENDOR_XML_NAMESPACE if appliance is not None and appliance.vendor_only else XML_NAMESPACE


def _root(tag: str, namespace: str = XML_NAMESPACE) -> Element:
    # A default-namespace declaration on the root puts every child in the namespace.
    return Element(tag, {"xmlns": namespace})


def _sync_time_text(appliance: Appliance, ts: float) -> str:
    # Recorded real answers carry milliseconds and a "+0000" offset; the extended profile writes plain ISO 8601.
    if appliance.vendor_only:
        return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    return iso(ts)


def _child(parent: Element, tag: str, text: Any = None, **attrs: Any) -> Element:
    element = Element(tag, {k: str(v) for k, v in attrs.items()}, None if text is None else str(text))
    parent.children.append(element)
    return element


def to_bytes(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + root.render().encode()


def error(message: str, namespace: str = XML_NAMESPACE) -> bytes:
    root = _root("error", namespace)
    root.text = message
    return to_bytes(root)


def success(action: str, message: str, namespace: str = XML_NAMESPACE) -> bytes:
    root = _root(action, namespace)
    _child(root, "success", message)
    return to_bytes(root)


def health_check(appliance: Appliance, success_flag: bool, error_message: str | None) -> bytes:
    root = _root("health_check", namespace_of(appliance))
    _child(root, "appliance", appliance.hostname, id=appliance.guid)
    _child(root, "version", appliance.version_string)
    _child(root, "success", int(success_flag))
    if error_message:
        _child(root, "error_message", error_message)
    _child(root, "failover_role", appliance.role)
    if appliance.role != "none":
        if appliance.enabled_shared_ips:
            ips = _child(root, "enabled_shared_ips")
            for ip in appliance.enabled_shared_ips:
                _child(ips, "ip", ip)
        last = appliance.last_sync
        if last is not None and last.finished is not None:
            _child(root, "last_data_sync_time", _sync_time_text(appliance, last.finished), ts=int(last.finished))
            _child(root, "last_data_sync_status", last.status)
    return to_bytes(root)


def api_info(appliance: Appliance, perm_command: str, perm_backup: bool) -> bytes:
    root = _root("api_information", namespace_of(appliance))
    _child(root, "api_version", API_VERSION)
    _child(root, "company_name", appliance.company_name)
    _child(root, "timestamp", int(time.time()))
    permissions = _child(root, "permissions")
    _child(permissions, "permission", perm_command, name="perm_command")
    _child(permissions, "permission", int(perm_backup), name="perm_backup")
    # Permissions a failover portal never needs; reported so parsers meet a realistic list.
    for name in ("perm_reporting_session", "perm_real_time_state", "perm_configuration", "perm_scim"):
        _child(permissions, "permission", 0, name=name)
    return to_bytes(root)


def appliances(members: Iterable[Appliance], namespace: str = XML_NAMESPACE) -> bytes:
    root = _root("appliances", namespace)
    for appliance in members:
        element = _child(root, "appliance", id=appliance.guid)
        _child(element, "name", appliance.name)
        _child(element, "public_hostname", appliance.hostname)
        _child(element, "cluster_role", "single")
        _child(element, "failover_role", appliance.role)
        _child(element, "accepting_connections", 1)
        _child(element, "timezone_offset", appliance.timezone_offset)
    return to_bytes(root)


def record(tag: str, fields: dict[str, Any]) -> bytes:
    """Generic extension answer: scalars become elements, lists become repeated ``item`` children,
    dicts become nested elements. Booleans are rendered 1/0 like the vendor's flags."""
    root = _root(tag)
    _fill(root, fields)
    return to_bytes(root)


def _fill(parent: Element, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if value is None:
            continue  # omitted, as the vendor omits elements without a value
        if isinstance(value, dict):
            _fill(_child(parent, key), value)
        elif isinstance(value, list | tuple):
            # A list renders as <key><item/>...</key>; a (item_tag, list) tuple names the items.
            item_tag, items = value if isinstance(value, tuple) else ("item", value)
            container = _child(parent, key)
            for item in items:
                if isinstance(item, dict):
                    _fill(_child(container, item_tag), item)
                else:
                    _child(container, item_tag, _scalar(item))
        else:
            _child(parent, key, _scalar(value))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)

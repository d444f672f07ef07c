"""Safe, namespace-agnostic XML parsing of appliance answers.

The namespace changed across appliance versions (bomgar.com -> beyondtrust.com, http -> https), so every
element is addressed by its *local* name. Parsing goes through defusedxml with DTDs forbidden outright:
the command API never needs one, and refusing them kills entity expansion bombs and external entities.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from .errors import ApplianceProtocolError


def local_name(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


class XmlNode(Mapping[str, "XmlNode"]):
    """A small read-only view of an XML element.

    As a mapping it goes from child local name to the *first* child of that name; ``all(name)`` gives every
    child of that name. ``text`` is the stripped text content, ``attrs`` the attributes (local names).
    """

    __slots__ = ("tag", "text", "attrs", "children")

    def __init__(self, tag: str, text: str, attrs: dict[str, str], children: list[XmlNode]) -> None:
        self.tag = tag
        self.text = text
        self.attrs = attrs
        self.children = children

    @classmethod
    def from_element(cls, element: Any) -> XmlNode:  # an element as defusedxml parsed it
        return cls(
            tag=local_name(element.tag),
            text=(element.text or "").strip(),
            attrs={local_name(k): v for k, v in element.attrib.items()},
            children=[cls.from_element(child) for child in element],
        )

    def __getitem__(self, name: str) -> XmlNode:
        for child in self.children:
            if child.tag == name:
                return child
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(child.tag for child in self.children))

    def __len__(self) -> int:
        return len(dict.fromkeys(child.tag for child in self.children))

    def all(self, name: str) -> list[XmlNode]:
        return [child for child in self.children if child.tag == name]

    def text_of(self, name: str, default: str | None = None) -> str | None:
        """Text of the first child called ``name``, or ``default`` if there is none."""
        child = self.get(name)
        return default if child is None else child.text

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict: leaves become their text, repeated names become lists, attributes are kept
        under ``@name`` keys. Handy for JSON-ing extension answers."""
        result: dict[str, Any] = {f"@{k}": v for k, v in self.attrs.items()}
        for child in self.children:
            value: Any = child.text if not child.children and not child.attrs else child.to_dict()
            if child.tag in result:
                if not isinstance(result[child.tag], list):
                    result[child.tag] = [result[child.tag]]
                result[child.tag].append(value)
            else:
                result[child.tag] = value
        return result

    def __repr__(self) -> str:
        return f"XmlNode({self.tag!r}, text={self.text!r}, attrs={self.attrs!r}, children={list(self)!r})"


def parse_xml(body: bytes) -> XmlNode:
    """Parse an answer body, refusing DTDs, entities and external references."""
    if not body.strip():
        raise ApplianceProtocolError("empty XML answer")
    try:
        root = SafeElementTree.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        # DTDForbidden / EntitiesForbidden / ExternalReferenceForbidden: never legitimate from an appliance.
        raise ApplianceProtocolError(f"answer contains forbidden XML constructs ({type(exc).__name__})") from exc
    except SafeElementTree.ParseError as exc:
        raise ApplianceProtocolError(f"answer is not well-formed XML ({exc})") from exc
    return XmlNode.from_element(root)

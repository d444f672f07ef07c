"""Label matchers, Alertmanager's syntax: ``severity="critical"``, ``pair=~"^shop-"``, ``kind!=sync_stale``.

Routes and silences store matchers as JSON (``[{"label", "op", "value"}]``); forms and the API accept the text
form, one matcher per line or comma-separated. A label whose value is a list (an object's tags) matches ``=``
and ``=~`` when any element does, and ``!=`` / ``!~`` when none does.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^",]*?))\s*$')


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    label: str
    op: MatchOp
    value: str

    def matches(self, labels: dict) -> bool:
        actual = labels.get(self.label, "")
        values = [str(v) for v in actual] if isinstance(actual, list | tuple) else [str(actual)]
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            # Anchored, as in Alertmanager: pair=~"shop" does not match "myshop.example.com".
            hit = any(re.fullmatch(self.value, value) for value in values)
        else:
            hit = self.value in values
        return hit if self.op in (MatchOp.EQUAL, MatchOp.REGEX) else not hit

    def as_json(self) -> dict:
        return {"label": self.label, "op": str(self.op), "value": self.value}

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.label}{self.op}"{escaped}"'


def _split(text: str) -> list[str]:
    """Split on newlines and on commas outside quotes."""
    parts, current, quoted, escaped = [], "", False, False
    for ch in text:
        if escaped:
            current, escaped = current + ch, False
        elif ch == "\\":
            current, escaped = current + ch, True
        elif ch == '"':
            current, quoted = current + ch, not quoted
        elif ch in ",\n" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def _build(candidates) -> list[Matcher]:
    """``candidates`` yields (label, op, value) or an error message; a ValidationError lists every error."""
    matchers, errors = [], []
    for candidate in candidates:
        if isinstance(candidate, str):
            errors.append(candidate)
            continue
        matcher = Matcher(candidate[0], MatchOp(candidate[1]), candidate[2])
        if matcher.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                re.compile(matcher.value)
            except re.error as exc:
                errors.append(f"“{matcher.value}” is not a regular expression: {exc}.")
        matchers.append(matcher)
    if errors:
        raise ValidationError(errors)
    return matchers


def _from_text(text: str):
    for part in _split(text.strip().strip("{}")):
        found = _MATCHER.match(part)
        if not found:
            yield f"“{part}” is not label=value, label!=value, label=~regex or label!~regex."
            continue
        label, op, quoted, bare = found.groups()
        yield label, op, re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare


def _from_json(data):
    for item in data:
        if not isinstance(item, dict) or set(item) != {"label", "op", "value"}:
            yield f"{item!r} is not {{label, op, value}}."
        elif not (isinstance(item["label"], str) and LABEL_NAME.match(item["label"])) \
                or item["op"] not in set(MatchOp) or not isinstance(item["value"], str):
            yield f"{item!r} is not a valid matcher."
        else:
            yield item["label"], item["op"], item["value"]


def parse_matchers(text: str) -> list[Matcher]:
    """Text to matchers; a ValidationError names each part that is wrong."""
    return _build(_from_text(text))


def matchers_from_json(data) -> list[Matcher]:
    """Stored (or API) JSON to matchers, validated the same way as the text form."""
    if not isinstance(data, list):
        raise ValidationError("Matchers are a list of {label, op, value}.")
    return _build(_from_json(data))


def matchers_text(data) -> str:
    return ", ".join(str(m) for m in matchers_from_json(data or []))


def all_match(matchers_json, labels: dict) -> bool:
    """Every matcher holds (an empty list matches everything)."""
    return all(matcher.matches(labels) for matcher in matchers_from_json(matchers_json or []))

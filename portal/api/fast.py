"""A faster ``to_representation`` for the serializers of big lists: the same JSON as DRF's, with the per-field
decisions taken once per list instead of once per field per row.

DRF's ``Serializer.to_representation`` walks every readable field of every row through ``get_attribute`` (with its
exception handling), the field's ``to_representation``, a nested serializer per nested object and a ``reverse()``
per identity URL; for a list of 100 appliances that was about half the request's time. ``FastRepresentation``
compiles the fields into a plan of small functions the first time it renders a row:

* plain columns (text, number, boolean, choice, IP) named by one attribute that is not a method are read with
  ``getattr``: their ``to_representation`` would return the value unchanged;
* a primary-key relation reads the ``<field>_id`` column (DRF's pk-only optimisation, without the wrapper);
* nested serializers (``source="*"``, a relation, ``many=True``) are compiled the same way (the nested object
  itself is read by DRF's ``get_attribute``: one call per row and nested field, not per nested value);
* an identity URL is reversed once and the row's id put into it;
* anything else (dates, lists, JSON, slugs, a dotted source, a method as the source) goes through the field's own
  ``get_attribute`` and ``to_representation``, as DRF does: a method is called, and a field DRF leaves out of the
  row (``SkipField``, e.g. a read-only path through an empty relation) is left out here too.

``tests/portal/test_fast_representation.py`` checks the output equals DRF's, row for row, for every list using it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from rest_framework import relations, serializers
from rest_framework.fields import SkipField

_PLAIN = (serializers.CharField, serializers.IntegerField, serializers.BooleanField, serializers.ChoiceField,
          serializers.FloatField)
_SENTINEL = "0fastpk0"
_SKIP = object()  # a step's answer for a field DRF leaves out of the row


def _render(plan, obj) -> dict:
    return {name: value for name, step in plan if (value := step(obj)) is not _SKIP}


def _names_a_method(serializer, name: str) -> bool:
    """Whether ``name`` is a method of the serializer's model (DRF calls it; ``getattr`` alone would not)."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    return model is not None and callable(getattr(model, name, None))


def _get(field) -> Callable:
    """DRF's own read of the row's value (it calls a method, follows a dotted path, answers None for a missing
    related object and raises ``SkipField`` for a field to leave out)."""
    def get(obj):
        try:
            return field.get_attribute(obj)
        except SkipField:
            return _SKIP
    return get


def _nested(field, render_one) -> Callable:
    get = _get(field)

    def render(obj):
        target = get(obj)
        return target if target is None or target is _SKIP else render_one(target)
    return render


def _step(serializer, field) -> Callable:  # noqa: PLR0911 - one branch per kind of field
    attrs = field.source_attrs
    if isinstance(field, serializers.ListSerializer):
        child = _plan(field.child)

        def many(related):
            items = related.all() if hasattr(related, "all") else related
            return [_render(child, item) for item in items]
        return _nested(field, many)
    if isinstance(field, serializers.Serializer):
        plan = _plan(field)
        return _nested(field, lambda target: _render(plan, target))
    if isinstance(field, serializers.HyperlinkedIdentityField):
        request = field.context.get("request")
        template = reverse(field.view_name, kwargs={field.lookup_url_kwarg: _SENTINEL})
        if request is not None:
            template = request.build_absolute_uri(template)
        lookup = field.lookup_field
        return lambda obj: template.replace(_SENTINEL, str(getattr(obj, lookup)))
    if isinstance(field, serializers.SerializerMethodField):
        method = getattr(serializer, field.method_name)
        return method
    if (isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None and len(attrs) == 1
            and hasattr(serializer, "Meta")):
        attname = serializer.Meta.model._meta.get_field(attrs[0]).attname
        return lambda obj: getattr(obj, attname)
    if (isinstance(field, _PLAIN) and len(attrs) == 1 and not isinstance(field, serializers.MultipleChoiceField)
            and not _names_a_method(serializer, attrs[0])):
        name = attrs[0]
        return lambda obj: getattr(obj, name)

    get = _get(field)

    def generic(obj):
        value = get(obj)
        if value is _SKIP:
            return _SKIP
        check = value.pk if isinstance(value, relations.PKOnlyObject) else value
        return None if check is None else field.to_representation(value)
    return generic


def _plan(serializer) -> list[tuple[str, Callable]]:
    plan = getattr(serializer, "_fast_plan", None)
    if plan is None:
        plan = [(field.field_name, _step(serializer, field)) for field in serializer._readable_fields]
        serializer._fast_plan = plan
    return plan


class FastRepresentation:
    """Mix into a (list) serializer before ``serializers.Serializer``: see the module's docstring."""

    def to_representation(self, instance):
        return _render(_plan(self), instance)

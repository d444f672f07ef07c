"""One pagination for every REST list: limit/offset with a maximum page size, or a keyset walk (``?cursor=``).

Limit/offset: without a maximum, ``?limit=9223372036854775808`` reached PostgreSQL as a LIMIT beyond bigint (a
500) and any caller could ask for a whole table in one response. A larger ``limit`` is cut to the maximum (DRF's
cutoff), an offset past the end answers an empty page; both bounds are in the schema.

Keyset (``?cursor=`` empty for the first page, then the ``next``/``previous`` links): the page after a position
is ``WHERE (sort column, id) > (value, id) ORDER BY sort column, id LIMIT n``, which the per-sort indexes
(``(column, id)``) answer by reading only the page's rows however deep it is; an offset makes PostgreSQL read and
discard every row before the page, and the count reads them all. Any ``?ordering=`` the list offers works (the
id is added as the tie-breaker); a NULL sort value sorts as PostgreSQL does (last ascending, first descending).
No ``count`` in this mode: that is the cost it avoids.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

CURSOR_PARAM = "cursor"


def encode_cursor(*, values: list, reverse: bool = False) -> str:
    """A position: the sort values of the row it follows (its id last). ``reverse``: the page before it."""
    def plain(value):
        return value.isoformat() if isinstance(value, date | datetime) else str(value) if isinstance(value, Decimal) else value

    payload = json.dumps({"v": [plain(v) for v in values], "r": reverse}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode_cursor(text: str) -> tuple[list, bool]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        values, reverse = payload["v"], bool(payload.get("r"))
        if not isinstance(values, list):
            raise TypeError
        return values, reverse
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({CURSOR_PARAM: ["Not a cursor this list gave: start again with an empty cursor."]}) from None


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = settings.API_MAX_PAGE_SIZE

    # -- mode --------------------------------------------------------------------------------------------------

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = CURSOR_PARAM in request.query_params and hasattr(queryset, "query")
        if not self.keyset:
            return super().paginate_queryset(queryset, request, view)
        return self._keyset_page(queryset, request)

    def get_paginated_response(self, data):
        if not getattr(self, "keyset", False):
            return super().get_paginated_response(data)
        return Response({"next": self._next, "previous": self._previous, "results": data})

    # -- keyset ------------------------------------------------------------------------------------------------

    def _ordering(self, queryset) -> list[tuple[str, bool]]:
        """(field, descending) of the list's order, the id last (in the direction of the first field)."""
        names = list(queryset.query.order_by or queryset.model._meta.ordering or [])
        ordering = []
        for name in names:
            if not isinstance(name, str) or "__" in name.lstrip("-") or name.lstrip("-") == "?":
                raise ValidationError({CURSOR_PARAM: ["This list's order cannot be walked with a cursor: use "
                                                      "limit and offset."]})
            field = name.lstrip("-")
            ordering.append(("pk" if field in ("id", "pk") else field, name.startswith("-")))
        if not any(field == "pk" for field, _ in ordering):
            ordering.append(("pk", ordering[0][1] if ordering else False))
        if len({descending for _, descending in ordering}) > 1:
            raise ValidationError({CURSOR_PARAM: ["A mixed ascending/descending order cannot be walked with a "
                                                  "cursor: use limit and offset."]})
        return ordering

    @staticmethod
    def _sort_field(queryset, field: str):
        """The model field a sort column reads: the model's own, or the one an alias of the list names (e.g. an
        appliance's last check, in its probe-status row: ``appliances.selectors.with_probe_status``)."""
        if field == "pk":
            return queryset.model._meta.pk
        if field in queryset.query.annotations:
            return queryset.query.annotations[field].output_field
        return queryset.model._meta.get_field(field)

    def _parse(self, queryset, field: str, value):
        if value is None:
            return None
        target = self._sort_field(queryset, field)
        if target.get_internal_type() == "DateTimeField":
            parsed = parse_datetime(value) if isinstance(value, str) else None
            if parsed is None:
                raise ValidationError({CURSOR_PARAM: ["Not a cursor this list gave."]})
            return parsed
        try:
            return target.to_python(value)
        except Exception:  # noqa: BLE001 - any conversion failure is the caller's bad cursor, never a 500
            raise ValidationError({CURSOR_PARAM: ["Not a cursor this list gave."]}) from None

    def _after(self, queryset, ordering, values, *, forward: bool):
        """Rows strictly after (``forward``) or before the position ``values`` in ``ordering``."""
        descending = ordering[0][1] != (not forward)  # walking backwards flips the comparison
        columns = [F(field) for field, _ in ordering]
        nullable = [field for field, _ in ordering[:-1] if self._sort_field(queryset, field).null]
        if len(ordering) > 2 and nullable:
            raise ValidationError({CURSOR_PARAM: ["This order cannot be walked with a cursor: use limit and offset."]})
        compare = TupleLessThan if descending else TupleGreaterThan
        if not nullable:
            return queryset.filter(compare(Tuple(*columns), tuple(values)))
        field = nullable[0]
        value, pk = values
        # PostgreSQL: NULLs last ascending, first descending; walking "forward" in an ascending order reaches
        # them after every value.
        nulls_ahead = not descending
        pk_side = Q(pk__lt=pk) if descending else Q(pk__gt=pk)
        if value is None:
            within = Q(**{f"{field}__isnull": True}) & pk_side
            return queryset.filter(within if nulls_ahead else within | Q(**{f"{field}__isnull": False}))
        valued = compare(Tuple(*columns), (value, pk))
        return queryset.filter(Q(valued) | Q(**{f"{field}__isnull": True}) if nulls_ahead else Q(valued))

    def _keyset_page(self, queryset, request):
        self.limit = self.get_limit(request) or self.default_limit or settings.REST_FRAMEWORK["PAGE_SIZE"]
        self.request = request
        ordering = self._ordering(queryset)
        text = request.query_params.get(CURSOR_PARAM, "")
        reverse = False
        if text:
            raw, reverse = _decode_cursor(text)
            if len(raw) != len(ordering):
                raise ValidationError({CURSOR_PARAM: ["This cursor belongs to another order of the list."]})
            values = [self._parse(queryset, field, value) for (field, _), value in zip(ordering, raw, strict=True)]
            queryset = self._after(queryset, ordering, values, forward=not reverse)
        order = [f"{'-' if descending != reverse else ''}{field}" for field, descending in ordering]
        rows = list(queryset.order_by(*order)[: self.limit + 1])
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        if reverse:
            rows.reverse()
        ahead, behind = (more, bool(text)) if not reverse else (bool(text), more)
        self._next = self._link(ordering, rows[-1], reverse=False) if ahead and rows else None
        self._previous = self._link(ordering, rows[0], reverse=True) if behind and rows else None
        return rows

    def _link(self, ordering, row, *, reverse: bool) -> str:
        values = [getattr(row, field) for field, _ in ordering]
        url = self.request.build_absolute_uri()
        return replace_query_param(url, CURSOR_PARAM, encode_cursor(values=values, reverse=reverse))

    # -- schema ------------------------------------------------------------------------------------------------

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        # A keyset page has no count (see the module's docstring).
        response["required"] = [name for name in response.get("required", []) if name != "count"]
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema = parameter["schema"]
            schema["minimum"] = 0 if parameter["name"] == self.offset_query_param else 1
            if parameter["name"] == self.limit_query_param:
                schema["maximum"] = self.max_limit
                parameter["description"] = f"Number of results to return per page (at most {self.max_limit})."
        parameters.append({
            "name": CURSOR_PARAM, "required": False, "in": "query", "schema": {"type": "string"},
            "description": "Walk the list by position instead of offset (fast at any depth, no count): empty for "
                           "the first page, then follow the next/previous links. Works with every ordering.",
        })
        return parameters


__all__ = ["BoundedLimitOffsetPagination", "encode_cursor"]

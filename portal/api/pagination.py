"""One pagination for every REST list: limit/offset with a maximum page size.

Without a maximum, ``?limit=9223372036854775808`` reached PostgreSQL as a LIMIT beyond bigint (a 500) and any
caller could ask for a whole table in one response. A larger ``limit`` is cut to the maximum (DRF's cutoff), an
offset past the end answers an empty page; both bounds are in the schema.
"""

from django.conf import settings
from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = settings.API_MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema = parameter["schema"]
            schema["minimum"] = 0 if parameter["name"] == self.offset_query_param else 1
            if parameter["name"] == self.limit_query_param:
                schema["maximum"] = self.max_limit
                parameter["description"] = f"Number of results to return per page (at most {self.max_limit})."
        return parameters

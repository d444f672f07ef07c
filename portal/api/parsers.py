"""The JSON parser of every REST endpoint.

DRF turns a syntax error into a 400 but lets ``RecursionError`` through: a body of a few thousand nested
brackets (reachable by any signed-in viewer) was a 500. Too deep is a parse error like any other.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc

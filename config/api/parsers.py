"""Strict JSON bodies: a clear 400 for malformed JSON, non-standard constants refused."""

import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError as exc:
            raise ParseError("the body is not UTF-8") from exc
        except ValueError as exc:
            raise ParseError(str(exc)) from exc

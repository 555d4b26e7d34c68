"""Strict JSON bodies: a clear 400 for malformed JSON, non-standard constants refused; and
percent-encoded text (query strings, form bodies) that must decode to UTF-8."""

import io
import json
from typing import Any
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from config.api import errors

# No body of this API nests deeper; a deeper one is refused before anything walks it (a
# recursive walk of it would exhaust the stack).
MAX_DEPTH = 64


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
            data = json.loads(text, parse_constant=_reject_constant)
        except UnicodeDecodeError as exc:
            raise ParseError("the body is not UTF-8") from exc
        except ValueError as exc:
            raise ParseError(str(exc)) from exc
        except RecursionError as exc:
            raise ParseError(f"the body nests deeper than {MAX_DEPTH} levels") from exc
        # Counting brackets is quick; only a body with more of them than the limit is walked.
        if text.count("[") + text.count("{") > MAX_DEPTH and _depth(data) > MAX_DEPTH:
            raise ParseError(f"the body nests deeper than {MAX_DEPTH} levels")
        if "\\ud" in text.lower():
            reject_lone_surrogates(data)
        return data


def parse_json(raw: bytes) -> Any:
    """A body outside DRF's views (GraphQL, the token endpoint) read as the REST API reads one,
    or the same 400."""
    try:
        return JSONParser().parse(io.BytesIO(raw))
    except ParseError as exc:
        raise errors.error(errors.MALFORMED_JSON, REASON=str(exc.detail)) from exc


def is_utf8_form(encoded: bytes) -> bool:
    """Whether a query string or form body decodes to UTF-8 text once its %-escapes are undone.
    Django would read U+FFFD in place of what does not (a lone surrogate's %ED%A0%80, a Latin-1
    %FF) and go on with a value the client never sent."""
    try:
        unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def refuse_undecodable_query(request: HttpRequest) -> None:
    """A request (or composite sub-request) whose query string is not UTF-8 text: 400."""
    # WSGI passes the raw bytes as Latin-1 characters (PEP 3333); so does a composite's dispatch.
    raw = request.META.get("QUERY_STRING", "").encode("iso-8859-1")
    if not is_utf8_form(raw):
        raise errors.error(errors.BAD_REQUEST, REASON="the query string is not UTF-8 text")


def _depth(body) -> int:
    """How deeply arrays and objects nest in a parsed body (iterative: any depth is safe)."""
    deepest = 0
    stack = [(1, body)]
    while stack:
        depth, value = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, depth)
            members = value.values() if isinstance(value, dict) else value
            stack.extend((depth + 1, member) for member in members)
    return deepest


def reject_lone_surrogates(body) -> None:
    """JSON may escape half a UTF-16 pair ("\\ud800"); no database stores it and no response
    can echo it, so it is refused wherever it appears, naming where (a JSON pointer)."""
    stack = [("", body)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, dict):
            for name, member in value.items():
                if not _is_unicode(name):
                    _refuse(pointer or "/", "a member name is not valid Unicode text")
                stack.append((f"{pointer}/{name}", member))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{index}", item) for index, item in enumerate(value))
        elif isinstance(value, str) and not _is_unicode(value):
            _refuse(pointer, "the string is not valid Unicode text (a lone surrogate)")


def _refuse(pointer: str, reason: str):
    raise errors.error(errors.NOT_UNICODE_TEXT, pointer, POINTER=pointer, REASON=reason)


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

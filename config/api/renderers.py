"""JSON is the only representation: clients asking for anything else still get JSON, never 406."""

from rest_framework import renderers
from rest_framework.negotiation import BaseContentNegotiation


class JSONRenderer(renderers.JSONRenderer):
    charset = "utf-8"


class AlwaysJSONNegotiation(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type.split(";")[0].strip().lower() == parser.media_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

"""LOG_FORMAT=json: one JSON object per log line. Importable without Django set up, so that
gunicorn.conf.py gives gunicorn's own lines the same shape."""

import contextvars
import json
import logging
from datetime import UTC, datetime

# The id of the request being answered (ops.middleware.RequestIdMiddleware sets it).
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# What the access line adds to a record (ops.middleware), in this order.
ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms", "user", "client", "address")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["traceback"] = self.formatStack(record.stack_info)
        # default=str: a value a library passes in its extra must not lose the line.
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True

"""gunicorn's settings for every start (`make run`, docker/entrypoint.sh, the tests' servers):
only what metrics and logs need; the command line gives bind, workers and the rest.

- Metrics from every worker: prometheus_client's multi-process mode, each worker writing its
  values to files in PROMETHEUS_MULTIPROC_DIR that /metrics sums. Unset, a temporary directory
  of this server's own (removed at exit); set, it is emptied at start, as counts from an earlier
  run would add to this one's. Give each server its own directory.
- One access line per request: the application's (`kitsmith.request`, which knows the route,
  user and client). gunicorn's access log is off by default; never pass --access-logfile.
- LOG_FORMAT=json: gunicorn's own lines (start, worker exits) are JSON objects too.
"""

import os
import shutil
import tempfile
from pathlib import Path

_own_directory = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_directory:
    # Set before any worker imports prometheus_client: workers inherit the environment.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kitsmith-metrics-")

# Imported now, not in child_exit: a second worker exiting while the SIGCHLD handler's first
# import runs would find the module half initialised (ImportError) and could stop the master.
from prometheus_client import multiprocess  # noqa: E402


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_directory:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            # A logging config turns gunicorn's access log on: off again, the app logs each request.
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }

"""The benchmark's targets (issue 16), their evaluation, and the tables the harness prints and
writes into the README, all from the report's plain data (tests/perf/results/latest.json).

- every read: at least 3x the plain DRF implementation and at least 0.5x the floor (req/s);
- the issue + move-to-inventory pair: at least 0.4x the floor;
- a batch of 500: at least 5x the rows/s of 500 single requests;
- every Kitsmith row: p99 at most 5x its p50.
"""

from typing import Any

READ_FLOOR, READ_DRF, WORKFLOW_FLOOR, TAIL = 0.5, 3.0, 0.4, 5.0
SERVERS = ("service", "floor", "drf")
NAMES = {"floor": "floor", "drf": "DRF"}
README_START = "<!-- benchmark table: python -m tests.perf --readme -->"
README_END = "<!-- end of benchmark table -->"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def check(target: str, value: float | None, threshold: float, *, at_most=False) -> dict:
    """One target: `value` (None: not measured) against `threshold`."""
    ok = None if value is None else value <= threshold if at_most else value >= threshold
    return {"target": target, "value": value, "threshold": threshold, "ok": ok}


def evaluate(
    kind: str, results: dict[str, dict[str, Any]], expected=SERVERS
) -> tuple[dict, list[dict]]:
    """The ratios of Kitsmith's req/s to the floor's and the DRF server's, and the targets that
    apply to a wrk scenario of this kind ("read", "workflow" or "token") against the servers in
    `expected` (those that serve it): a target whose server gave no figure is not measured
    (ok None), never left out."""
    service = results.get("service")
    rps = {label: results[label]["rps"] for label in SERVERS if label in results}
    ratios = {
        label: ratio(rps.get("service"), rps[label]) for label in ("floor", "drf") if label in rps
    }
    checks = []
    if service is None:
        return ratios, checks
    wanted = {"read": {"floor": READ_FLOOR, "drf": READ_DRF}, "workflow": {"floor": WORKFLOW_FLOOR}}
    for label, threshold in wanted.get(kind, {}).items():
        if label in expected:
            checks.append(check(f">= {threshold:g} x {NAMES[label]}", ratios.get(label), threshold))
    tail = ratio(service["p99_ms"], service["p50_ms"])
    checks.append(check(f"p99 <= {TAIL:g} x p50", tail, TAIL, at_most=True))
    return ratios, checks


def rate_checks(per_s: dict[str, float | None]) -> list[dict]:
    """A bulk read's targets from its rows/s by server (None: no figure): at least
    READ_FLOOR x the floor and READ_DRF x the DRF server."""
    service = per_s.get("service")
    return [
        check(f">= {threshold:g} x {NAMES[label]}", ratio(service, per_s.get(label)), threshold)
        for label, threshold in (("floor", READ_FLOOR), ("drf", READ_DRF))
    ]


def verdict(checks: list[dict]) -> str:
    """ "ok" when every target holds, else the ones that fail or were not measured."""
    failed = [c for c in checks if c["ok"] is not True]
    if not failed:
        return "ok" if checks else ""
    return "; ".join(
        f"not measured: {c['target']}" if c["ok"] is None else f"FAIL {c['target']} ({c['value']})"
        for c in failed
    )


def measured(result: dict[str, Any] | None) -> bool:
    """Whether a server's result holds a figure (req/s or rows/s), not a status."""
    return bool(result) and ("rps" in result or "per_s" in result)


def summary(report: dict[str, Any]) -> dict[str, list[str]]:
    """Which targets hold and which fail, by row, over the whole report."""
    held, failed, unmeasured = [], [], []
    rows = [*report["scenarios"], *report.get("bulk", [])]
    for row in rows:
        # Rows without servers (the several-in-one rows) hold Kitsmith's figures themselves.
        if row["status"] != "ok" or (
            "servers" in row and not measured(row["servers"].get("service"))
        ):
            unmeasured.append(row["scenario"])
            continue
        for c in row.get("targets", []):
            name = f"{row['scenario']}: {c['target']}"
            (unmeasured if c["ok"] is None else held if c["ok"] else failed).append(name)
    return {"held": held, "failed": failed, "not_measured": unmeasured}


# --- tables ---------------------------------------------------------------------------------------
def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def _server(row: dict[str, Any], label: str) -> dict[str, Any] | None:
    result = row.get("servers", {}).get(label)
    return result if result and "rps" in result else None


def scenario_lines(report: dict[str, Any]) -> list[list[str]]:
    """The main table's cells, one list a scenario."""
    lines = []
    for row in report["scenarios"]:
        if row["status"] != "ok":
            lines.append([row["scenario"], row["status"]])
            continue
        cells = [row["scenario"]]
        for label in SERVERS:
            result = _server(row, label)
            if result is None:
                status = row.get("servers", {}).get(label, {}).get("status", "—")
                cells += [status, "", "", ""]
                continue
            cells += [
                _num(result["rps"]),
                _num(result["p50_ms"], 1),
                _num(result["p99_ms"], 1),
                _num(row["queries"].get(label)),
            ]
        rows_s = ""
        if row.get("rows") and _server(row, "service"):
            rows_s = _num(row["servers"]["service"]["rps"] * row["rows"])
        cells += [
            _num(row["ratios"].get("floor"), 2),
            _num(row["ratios"].get("drf"), 2),
            rows_s,
            verdict(row["targets"]) if _server(row, "service") else "not measured",
        ]
        errors = [
            f"{result['errors']} errors ({label})"
            for label in SERVERS
            if (result := _server(row, label)) and result.get("errors")
        ]
        if errors:
            cells[-1] = "; ".join([cells[-1], *errors])
        lines.append(cells)
    return lines


SCENARIO_HEADER = [
    "scenario",
    "Kitsmith r/s",
    "p50 ms",
    "p99 ms",
    "q",
    "floor r/s",
    "p50 ms",
    "p99 ms",
    "q",
    "DRF r/s",
    "p50 ms",
    "p99 ms",
    "q",
    "÷ floor",
    "÷ DRF",
    "Kitsmith rows/s",
    "targets",
]


def bulk_lines(report: dict[str, Any]) -> list[list[str]]:
    """Rows per second of the bulk work timed from Python, by server."""
    lines = []
    for row in report.get("bulk", []):
        if row["status"] != "ok":
            lines.append([row["scenario"], row["status"]])
            continue
        cells = [row["scenario"], row["unit"]]
        for label in ("service", "service_single", "floor", "drf"):
            result = row["servers"].get(label)
            if result is None:
                cells.append("—")
            elif "status" in result:
                cells.append(result["status"])
            else:
                cells.append(_num(result["per_s"]) + ("" if result.get("complete", True) else "*"))
        cells.append(row.get("note", ""))
        cells.append(verdict(row.get("targets", [])))
        lines.append(cells)
    return lines


BULK_HEADER = [
    "bulk work",
    "unit",
    "Kitsmith /s",
    "Kitsmith single /s",
    "floor /s",
    "DRF /s",
    "note",
    "targets",
]


PROFILE_SERVERS = {"service": "Kitsmith", "drf": "DRF"}
PROFILE_HEADER = [
    "scenario",
    "Kitsmith ms",
    "of it SQL ms",
    "statements",
    "Python calls",
    "DRF ms",
    "of it SQL ms",
    "statements",
    "Python calls",
]


def _profile_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return (report.get("profile") or {}).get("rows", [])


def _profile_name(row: dict[str, Any]) -> str:
    return row["scenario"] + (" (per pair)" if row["kind"] == "workflow" else "")


def profile_lines(report: dict[str, Any]) -> list[list[str]]:
    """The per-request profile's cells (tests/perf/profile.py), one list a scenario: ms per
    request, of it SQL, statements and Python calls, Kitsmith's then DRF's."""
    lines = []
    for row in _profile_rows(report):
        cells = [_profile_name(row)]
        for label in PROFILE_SERVERS:
            result = row["servers"].get(label)
            if result is None or result.get("status") != "ok":
                cells += [(result or {}).get("status", "—"), "", "", ""]
                continue
            statements = result["statements"]
            cells += [
                _num(result["ms"], 1),
                _num(result["sql_ms"], 1),
                _num(statements, 0 if isinstance(statements, int) else 1),
                _num(result["python_calls"]),
            ]
        lines.append(cells)
    return lines


def profile_top_lines(report: dict[str, Any]) -> list[str]:
    """Where each request's Python time goes: the functions with the most tottime outside the
    statements (ms per request under cProfile), by scenario and server."""
    lines = []
    for row in _profile_rows(report):
        for label, name in PROFILE_SERVERS.items():
            result = row["servers"].get(label)
            if result and result.get("status") == "ok":
                top = "; ".join(f"{f['ms']:.2f} {f['function']}" for f in result["top"])
                lines.append(f"{_profile_name(row)}, {name}: {top}")
    return lines


def describe_profile(report: dict[str, Any]) -> str:
    phases = report["profile"]["phases"]
    return (
        "Per request (tests/perf/profile.py, after the wrk runs), each server's settings in one"
        " process, the requests sent to its WSGI application as gunicorn sends them (the"
        f" connection health check included): ms the mean of up to {phases['requests']} requests"
        f" after {phases['warmup']} unmeasured; of it SQL the time inside each statement's"
        " execute (`connection.execute_wrapper`) and in COMMIT (from the last statement to the"
        " on_commit hooks); statements the executes; Python calls per request by cProfile over"
        f" up to {phases['profiled']} more. A time budget per phase stops the slowest sooner"
        " (the JSON has the counts). The workflow row is per issue + move pair."
    )


def text_table(header: list[str], lines: list[list[str]]) -> str:
    widths = [len(h) for h in header]
    for line in lines:
        if len(line) == len(header):
            widths = [max(w, len(cell)) for w, cell in zip(widths, line, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("-" * len(out[0]))
    for line in lines:
        if len(line) != len(header):
            out.append(f"{line[0].ljust(widths[0])}  {line[1]}")
        else:
            out.append("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    return "\n".join(out)


def markdown_table(header: list[str], lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for line in lines:
        cells = line + [""] * (len(header) - len(line))
        out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(out)


def describe_setup(report: dict[str, Any]) -> str:
    machine, settings, data = report["machine"], report["settings"], report["dataset"]
    return (
        f"`{report['command']}` ({report['generated']}): {data['inventories']:,} part inventories,"
        f" {data['items']:,} items, {data['kits']:,} kits; {machine['cores']} cores"
        f" ({machine['cpu_model']}), {machine['ram_gib']} GiB RAM, PostgreSQL"
        f" {machine['postgresql']}, Python {machine['python']}, Django {machine['django']};"
        f" {settings['workers']} gunicorn sync workers per server, wrk {settings['connections']}"
        f" connections, {settings['duration']} s per run after {settings['warmup']} s of warm-up."
    )


def readme_section(report: dict[str, Any]) -> str:
    """The README's benchmark table, between its markers."""
    targets = summary(report)
    parts = [
        README_START,
        describe_setup(report),
        "",
        markdown_table(SCENARIO_HEADER, scenario_lines(report)),
        "",
        markdown_table(BULK_HEADER, bulk_lines(report)),
        "",
        f"Targets: {len(targets['held'])} hold, {len(targets['failed'])} fail"
        + (": " + "; ".join(targets["failed"]) if targets["failed"] else "")
        + "."
        + (
            f" Not measured: {', '.join(targets['not_measured'])}."
            if targets["not_measured"]
            else ""
        ),
        "",
        "Notes: " + " ".join(report.get("notes", [])),
    ]
    if _profile_rows(report):
        parts += [
            "",
            describe_profile(report),
            "",
            markdown_table(PROFILE_HEADER, profile_lines(report)),
        ]
    return "\n".join([*parts, README_END])


def replace_section(readme: str, section: str) -> str:
    """The README with its benchmark table replaced (its markers must be there)."""
    start, end = readme.index(README_START), readme.index(README_END) + len(README_END)
    return readme[:start] + section + readme[end:]

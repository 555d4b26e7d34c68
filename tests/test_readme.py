"""The README cannot rot: its error table is CATALOGUE, its configuration table names every
variable settings.py reads, and its curl walkthrough runs against a real server."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from config.api.errors import CATALOGUE
from config.api.management.commands.error_catalogue import BEGIN, END, catalogue_table
from inventory.models import Item, PartInventory
from kitting.models import Run
from tests.support.examples import code_blocks, demo_credentials
from tests.support.kitting import assert_ledger_invariant

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_readme_opens_with_the_two_setup_commands():
    title, rest = README.split("\n", 1)
    assert title == "# Kitsmith"
    assert rest.lstrip("\n").startswith("```sh\nmake run\nmake test\n```\n")


def test_error_catalogue_table_is_up_to_date():
    table = README[README.index(BEGIN) + len(BEGIN) : README.index(END)].strip()
    assert table == catalogue_table(), (
        "README.md's error catalogue is stale: run `python manage.py error_catalogue --write`"
    )
    listed = re.findall(r"^\| `([A-Z]+-\d+)` \|", table, flags=re.MULTILINE)
    assert sorted(listed) == sorted(CATALOGUE)


def test_configuration_lists_every_variable_settings_reads():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(
        re.findall(
            r'(?:os\.environ\.get|os\.getenv|env_bool|env_list)\(\s*"([A-Z_]+)"', settings_source
        )
    )
    assert "DATABASE_URL" in read  # the pattern still matches how settings.py reads variables
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", section("Configuration"), re.MULTILINE))
    assert read <= documented, f"undocumented: {sorted(read - documented)}"


# Sections whose first code block goes on with the session "Try the API" opened, in the order a
# reader meets them (each is true after the ones above it).
CONTINUED = [
    "Part inventory and kitting",
    "Planning",
    "Stock operations",
    "Idempotency",
    "Model service",
    "GraphQL (ION)",
    "Composite and batch",
]


def test_the_walkthrough_runs_in_document_order():
    headings = re.findall(r"^## (.+)$", README, re.MULTILINE)
    assert sorted(CONTINUED, key=headings.index) == CONTINUED


MARKER = "=== README section: "


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough is curl commands")
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_curl_walkthrough_runs_as_printed(live_server):
    """The README's curl block, and after it the first block of each section continuing its
    session, run by bash against a live server on fresh demo data; only the two credentials and
    the base URL are filled in, as a reader would."""
    client_id, secret = demo_credentials()
    (block,) = code_blocks(section("Try the API"))
    filled = (
        block.replace("CLIENT_ID=paste-the-client_id-here", f"CLIENT_ID={client_id}")
        .replace("CLIENT_SECRET=paste-the-client_secret-here", f"CLIENT_SECRET={secret}")
        .replace("BASE=http://127.0.0.1:8000", f"BASE={live_server.url}")
    )
    assert filled.count(client_id) == 1 and filled.count(live_server.url) == 1
    for title in CONTINUED:
        filled += f"echo '{MARKER}{title}'\n" + code_blocks(section(title))[0]
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", filled],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines, *continued = re.split(f"^{MARKER}.*\n", result.stdout, flags=re.MULTILINE)
    lines = lines.splitlines()
    outputs = dict(zip(CONTINUED, continued, strict=True))

    assert lines[0] == (
        '{"ia::result":{"key":"7","id":"Prnt_Cable","href":"/objects/inventory-control/item/7"},'
        '"ia::meta":{"totalCount":1,"totalSuccess":1,"totalError":0}}'
    )
    assert lines[1] == "kit component 9"
    etags = [line.strip() for line in lines if line.startswith("ETag:")]
    assert etags == ['ETag: "1"', 'ETag: "2"']
    bodies = [line for line in lines if line.startswith('{"ia::result":{"key":"9"')]
    assert '"numberOfUnits":2,' in bodies[0] and '"lineNumber":5,' in bodies[0]
    assert bodies[1] == (
        '{"ia::result":{"key":"9","id":"9","href":"/objects/inventory-control/kit-component/9"},'
        '"ia::meta":{"totalCount":1,"totalSuccess":1,"totalError":0}}'
    )
    assert '"numberOfUnits":3,' in bodies[2] and '"lineNumber":1,' in bodies[2]
    assert '"totalCount":5,"start":1,"pageSize":10' in next(
        line for line in lines if line.startswith('{"ia::result":[')
    )
    assert lines[-2] == "204"
    assert '"errorId":"KS-4092"' in lines[-1]
    assert lines[-1].startswith(
        '{"ia::result":{"ia::error":{"code":"conflict","message":"inventory-control/item 2 '
        "cannot be deleted: it is still referenced by inventory-control/inventory-transaction 3, "
        "inventory-control/part-inventory 3, inventory-control/kit-component 2, "
        'inventory-control/kit-component 6"'
    )

    # Part inventory and kitting: stock, a run of one bundle, issue 6, move 2 back, a refusal, the
    # kit with its exploded requirements, the lot's ledger.
    serial, the_run, issued_6, moved_2, too_many, the_kit, lot_ledger = [
        json.loads(answer)["ia::result"]
        for answer in outputs["Part inventory and kitting"].splitlines()
    ]
    lot = issued_6["partInventory"]["key"]
    assert PartInventory.objects.get(pk=serial["key"]).serial_number == "PR-00003"
    assert the_run["id"] == "RUN-1"
    assert (issued_6["issuedQuantity"], issued_6["partInventory"]["quantity"]) == (6, 19)
    assert (moved_2["issuedQuantity"], moved_2["partInventory"]["quantity"]) == (4, 21)
    assert too_many["ia::error"]["details"][0]["message"] == (
        f"Cannot issue 100: part inventory {lot} has 21 on hand"
    )
    assert [list(row.values())[1:] for row in the_kit["requirements"]] == [
        [2, 0, 2],
        [4, 4, 0],
        [1, 0, 1],
    ]
    assert [row["part"]["id"] for row in the_kit["requirements"]] == [
        "Prnt_Paper",
        "Prnt_Ink",
        "Prnt_1000",
    ]
    assert [list(row.values())[1:] for row in lot_ledger] == [
        ["create", 25, 0, 25, None],
        ["issue", -6, 6, 19, the_kit["key"]],
        ["return", 2, -2, 21, the_kit["key"]],
    ]
    replayed = outputs["Idempotency"].replace("\r\n", "\n").splitlines()
    starts = [n for n, line in enumerate(replayed) if line.startswith("HTTP/")]
    assert len(starts) == 2
    first, again = replayed[starts[0] : starts[1]], replayed[starts[1] :]
    created = (
        '{"ia::result":{"key":"8","id":"Prnt_Toner","href":"/objects/inventory-control/item/8"},'
        '"ia::meta":{"totalCount":1,"totalSuccess":1,"totalError":0}}'
    )
    assert first[0] == again[0] == "HTTP/1.1 201 Created"
    for answer in (first, again):
        assert "Idempotency-Key: toner-order-0001" in answer
        assert "Location: /objects/inventory-control/item/8" in answer
        assert created in answer
    assert not any(line.startswith("x-ia-idempotency-cached-date") for line in first)
    (cached,) = [line for line in again if line.startswith("x-ia-idempotency-cached-date")]
    assert re.fullmatch(r"x-ia-idempotency-cached-date: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cached)
    assert replayed[-1].startswith(
        '{"ia::result":{"ia::error":{"code":"conflict","message":"Idempotency-Key '
        'toner-order-0001 was already used for a different request","errorId":"KS-4095"'
    )
    assert list(Item.objects.filter(code__startswith="Prnt_").values_list("code", flat=True)) == [
        "Prnt_Paper",
        "Prnt_Ink",
        "Prnt_1000",
        "Prnt_Bundle",
        "Prnt_Cable",
        "Prnt_Toner",
    ]

    everything, workflows, kits, line, issue = [
        json.loads(answer)["ia::result"] for answer in outputs["Model service"].splitlines()
    ]
    names = [entry["apiObject"] for entry in everything]
    assert {"objects/inventory-control/kit-component", "services/core/model"} <= set(names)
    assert [entry["type"] for entry in workflows] == ["workflow"] * 6
    assert [entry["apiObject"] for entry in kits] == [
        "objects/inventory-control/kit-component",
        "objects/inventory-control/part-kit",
    ]
    assert line["apiObject"] == "objects/inventory-control/kit-component"
    assert list(line["refs"]) == ["kit", "component"]
    assert line["fields"]["numberOfUnits"]["type"] == "number"
    assert list(issue["request"]["fields"]) == ["key", "quantity"]
    assert issue["type"] == "workflow"

    # GraphQL: stock, a kit, issue, move back, refuse, read.
    assert outputs["GraphQL (ION)"].splitlines() == [
        '{"data":{"createPartInventory":{"partInventory":{"id":"13","lotNumber":"Prnt_Ink-L000004",'
        '"quantity":25.0,"status":"AVAILABLE","_etag":"1"}}}}',
        '{"data":{"issueItemToKit":{"issuedQuantity":6.0,"partInventory":{"quantity":19.0,'
        '"kittedQuantity":6.0}}}}',
        '{"data":{"moveItemToInventory":{"issuedQuantity":4.0,"partInventory":{"quantity":21.0,'
        '"kittedQuantity":4.0}}}}',
        '{"data":{"issueItemToKit":null},"errors":[{"message":'
        '"Cannot issue 100: part inventory 13 has 21 on hand",'
        '"locations":[{"line":1,"column":42}],"path":["issueItemToKit"],"extensions":'
        '{"code":"operationFailed","errorId":"KS-4250","target":"quantity"}}]}',
        '{"data":{"partKits":{"edges":[{"node":{"id":"4","status":"DRAFT","partInventories":'
        '[{"id":"13","issuedQuantity":4.0}]}}],"pageInfo":{"totalCount":1}},"partInventory":'
        '{"quantity":21.0,"kittedQuantity":4.0,"partKits":[{"id":"4"}],"runs":'
        '[{"title":"Ink for the starter kit"}],"_etag":"3"}}}',
    ]

    several = outputs["Composite and batch"].splitlines()
    assert len(several) == 8, several
    keys, failed, rolled_back, got, patched, deleted, composite, stopped = several
    assert keys == "warehouses 4,5"
    by_position = [json.loads(line)["ia::result"] for line in (failed, rolled_back)]
    assert [item.get("ia::error", {}).get("code") for item in by_position[0]] == ["conflict", None]
    assert by_position[0][1] == {
        "key": "6",
        "id": "WH-C",
        "href": "/objects/inventory-control/warehouse/6",
        "ia::status": 201,
    }
    assert [item["ia::error"]["code"] for item in by_position[1]] == ["unprocessed", "conflict"]
    assert [(w["key"], w["id"]) for w in json.loads(got)["ia::result"]] == [
        ("4", "WH-A"),
        ("5", "WH-B"),
    ]
    assert patched == (
        '{"ia::result":[{"key":"4","id":"WH-A","href":"/objects/inventory-control/warehouse/4",'
        '"ia::status":200},{"key":"5","id":"WH-B","href":"/objects/inventory-control/warehouse/5",'
        '"ia::status":200}],"ia::meta":{"totalCount":2,"totalSuccess":2,"totalError":0}}'
    )
    assert deleted == "204"
    items = json.loads(composite)["ia::result"]
    assert [item["ia::status"] for item in items] == [201, 201, 200]
    assert items[2]["ia::result"]["component"]["id"] == "Stapler"
    items = json.loads(stopped)["ia::result"]
    assert [(item["ia::status"], item.get("ia::error", {}).get("errorId")) for item in items] == [
        (200, None),
        (409, "KS-4092"),
        (422, "KS-4270"),
    ]

    # Stock operations: scrap, recount, If-Match refused twice, split, transfer, the ledger.
    scrap, recount, unmatched, stale, split, transfer, ledger = [
        json.loads(answer)["ia::result"] for answer in outputs["Stock operations"].splitlines()
    ]
    where = {
        "main": {"key": "1", "id": "WH-MAIN", "href": "/objects/inventory-control/warehouse/1"}
    }
    stock, new = scrap["key"], split["key"]
    where["qa"] = split["location"]
    assert (scrap["quantity"], scrap["location"], recount["quantity"]) == (38, where["main"], 37)
    assert (unmatched["ia::error"]["errorId"], stale["ia::error"]["errorId"]) == (
        "KS-4281",
        "KS-4121",
    )
    assert where["qa"]["id"] == "WH-QA" and split["quantity"] == 12
    assert split["originPartInventory"]["key"] == stock
    assert (transfer["key"], transfer["quantity"], transfer["location"]) == (new, 12, where["main"])
    assert [list(row.values()) for row in ledger] == [
        [stock, "create", 40, 40, "", None, None],
        [stock, "scrap", -2, 38, "Crushed in transit", None, None],
        [stock, "recount", -1, 37, "Cycle count", None, None],
        [stock, "split", -12, 25, "", None, None],
        [new, "split", 12, 12, "", None, None],
        [new, "transfer", 0, 12, "Passed inspection", "WH-QA", "WH-MAIN"],
    ]

    # Planning: requirements, a stocktake, the shortage, fulfil, the refusal, fulfil again,
    # completion (the requirements go), a rush run completed short, the bundle in stock.
    (
        listed,
        recount,
        split,
        needs,
        shortages,
        fulfilled,
        refused,
        again,
        completed,
        gone,
        rushed,
        bundle,
    ) = [json.loads(answer)["ia::result"] for answer in outputs["Planning"].splitlines()]
    run_key = completed["key"]
    parts = {"Prnt_Paper": "2", "Prnt_Ink": "3", "Prnt_1000": "4"}
    assert [row["key"] for row in listed] == [f"{run_key}-{key}" for key in parts.values()]
    assert (recount["key"], recount["quantity"]) == ("3", 18)
    assert (split["quantity"], split["location"]["id"]) == (10, "WH-HOLD")
    assert split["originPartInventory"]["key"] == "4"
    # Available ink: the demo lot's 20 left on WH-MAIN and the kitting walkthrough's 21; printers:
    # the demo's two and the kitting walkthrough's one.
    assert [list(row.values()) for row in needs] == [
        ["Prnt_Paper", 8, 0, 8, 18, 0],
        ["Prnt_Ink", 16, 0, 16, 41, 0],
        ["Prnt_1000", 4, 0, 4, 3, 1],
    ]
    # RUN-1 (the kitting walkthrough's bundle) is open too: its kit holds its 4 cartridges only.
    assert [list(row.values()) for row in shortages] == [
        ["Prnt_1000", 5, 1],
        ["Prnt_Ink", 16, 0],
        ["Prnt_Paper", 10, 0],
    ]

    def issued(answer):
        return [(line["partInventory"]["key"], line["quantity"]) for line in answer["issued"]]

    def short(answer):
        return {row["part"]["id"]: row["shortQuantity"] for row in answer["requirements"]}

    assert issued(fulfilled) == [("1", 1), ("2", 1), ("3", 8), ("4", 16), ("5", 1)]
    assert short(fulfilled) == {"Prnt_Paper": 0, "Prnt_Ink": 0, "Prnt_1000": 1}
    (detail,) = refused["ia::error"]["details"]
    assert (detail["errorId"], detail["target"]) == ("KS-4265", "requirements")
    assert detail["message"] == (
        "Run RUN-BUNDLE is short of 1 of part Prnt_1000: 4 required, 3 issued to its open kits "
        "(issue it, or complete with allowShortage)"
    )
    (new_printer,) = [line[0] for line in issued(again)]
    assert issued(again) == [(new_printer, 1)]
    assert PartInventory.objects.get(pk=new_printer).serial_number == "PR-00004"
    assert short(again) == {"Prnt_Paper": 0, "Prnt_Ink": 0, "Prnt_1000": 0}
    assert (completed["id"], completed["status"]) == ("RUN-BUNDLE", "complete")
    assert [output["quantity"] for output in completed["outputs"]] == [4]
    assert gone == []
    assert (rushed["id"], rushed["status"]) == ("RUN-RUSH", "complete")
    assert [output["quantity"] for output in rushed["outputs"]] == [1]
    assert bundle == [
        {"id": "Prnt_Bundle", "onHandQuantity": 5, "availableQuantity": 5, "buildableQuantity": 0}
    ]
    rush = Run.objects.get(code="RUN-RUSH")
    # Short of its printer on purpose: the kit held only paper and ink, all of it installed.
    assert sorted(rush.installations.values_list("part_inventory__part__code", "quantity")) == [
        ("Prnt_Ink", 4),
        ("Prnt_Paper", 2),
    ]

    # Every unit of every part inventory the walkthroughs touched is explained by the ledger.
    assert assert_ledger_invariant() == PartInventory.objects.count()

"""Documentation that runs: the demo data a reader starts from, the code blocks of a markdown page,
and its HTTP examples sent to a real server and held to the documented answers.

The README's walkthrough (tests/test_readme.py) runs its curl blocks; the reference in docs/
(tests/test_docs.py) writes each example as an HTTP message, a request block and the response
block after it:

    ```http
    POST /objects/inventory-control/warehouse
    Content-Type: application/json

    {"id": "WH-B", "name": "Aisle B"}
    ```

    ```http
    HTTP/1.1 201 Created
    Location: /objects/inventory-control/warehouse/2

    {"ia::result": {...}, "ia::meta": {...}}
    ```

A request to the API (/objects, /workflows, /services, /graphql, /ia/…) without an Authorization
header is sent with the page's bearer token, any other (the token endpoint, /healthz) as written;
`<client_id>`, `<client_secret>` and `<token>` stand for the demo client's and its token. The
answer must have the documented status, every documented header and the documented JSON body;
`…` (a JSON string, or a header's whole value) stands for any value, as an id or a time differs
from one run to the next.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import requests
from django.core.management import call_command

ANY = "…"
REQUEST_LINE = re.compile(r"^(GET|POST|PATCH|PUT|DELETE|HEAD) (\S+)(?: HTTP/1\.1)?$")
STATUS_LINE = re.compile(r"^HTTP/1\.1 (\d{3})(?: .*)?$")
# Only these need a token; the anonymous endpoints go as written, so a page proves them anonymous.
AUTHENTICATED = re.compile(r"^/(objects|workflows|services|graphql|ia)(/|\?|$)")


def code_blocks(text: str, language: str = "[a-z]*") -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def demo_credentials() -> tuple[str, str]:
    """Loads the demo data as `make run` does; the API client's id and secret it printed."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    client_id = re.search(r"client_id (\S+)", out.getvalue()).group(1)
    secret = re.search(r"client_secret (\S+)", out.getvalue()).group(1)
    return client_id, secret


@dataclass
class Message:
    """A request (`start` its method and target) or a response (`start` its status)."""

    start: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass
class Example:
    request: Message
    response: Message
    line: int  # where the request's block starts on its page, for the failure's message


def parse(block: str) -> Message:
    head, _, body = block.partition("\n\n")
    start, *lines = head.strip("\n").split("\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return Message(start, headers, body.strip())


def http_examples(page: str) -> list[Example]:
    """Every request block of a page and the response block after it, in page order; a request
    without its response, or a response without its request, is an error in the page."""
    examples: list[Example] = []
    pending: tuple[Message, int] | None = None
    for match in re.finditer(r"```http\n(.*?)```", page, flags=re.DOTALL):
        message = parse(match.group(1))
        line = page.count("\n", 0, match.start()) + 1
        if REQUEST_LINE.match(message.start):
            assert pending is None, f"line {pending[1]}: a request without its response"
            pending = (message, line)
        else:
            assert STATUS_LINE.match(message.start), f"line {line}: {message.start!r}"
            assert pending is not None, f"line {line}: a response without its request"
            examples.append(Example(pending[0], message, pending[1]))
            pending = None
    assert pending is None, f"line {pending[1]}: a request without its response"
    return examples


def matches(documented: Any, actual: Any) -> bool:
    """Whether an answer is what the page says: equal, `…` standing for any value."""
    if documented == ANY:
        return True
    if isinstance(documented, dict):
        return (
            isinstance(actual, dict)
            and documented.keys() == actual.keys()
            and all(matches(value, actual[name]) for name, value in documented.items())
        )
    if isinstance(documented, list):
        return (
            isinstance(actual, list)
            and len(documented) == len(actual)
            and all(map(matches, documented, actual))
        )
    if isinstance(documented, bool) or isinstance(actual, bool):
        return documented is actual
    if isinstance(documented, int | float) and isinstance(actual, int | float):
        return documented == actual  # 25 and 25.0: a number either way
    return type(documented) is type(actual) and documented == actual


@dataclass
class Reader:
    """A reader trying a page's examples against the server at `base`, in order."""

    base: str
    client_id: str
    secret: str
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def fill(self, text: str) -> str:
        return (
            text.replace("<client_id>", self.client_id)
            .replace("<client_secret>", self.secret)
            .replace("<token>", self.token)
        )

    def send(self, request: Message) -> requests.Response:
        method, target = REQUEST_LINE.match(request.start).groups()
        headers = {name: self.fill(value) for name, value in request.headers.items()}
        if "Authorization" not in headers and self.token and AUTHENTICATED.match(target):
            headers["Authorization"] = f"Bearer {self.token}"
        return self.session.request(
            method,
            self.base + target,
            headers=headers,
            data=self.fill(request.body).encode() if request.body else None,
            allow_redirects=False,
            timeout=60,
        )

    def check(self, page: str, example: Example) -> requests.Response:
        """Sends the example's request; fails, showing the real answer, unless it is the one
        documented."""
        answer = self.send(example.request)
        documented = example.response
        where = f"{page}:{example.line} {example.request.start}"
        shown = f"{where}: the real answer is\n{describe(answer)}"
        status = int(STATUS_LINE.match(documented.start).group(1))
        assert answer.status_code == status, shown
        for name, value in documented.headers.items():
            assert name in answer.headers, f"{shown}\n(no {name} header)"
            assert value == ANY or answer.headers[name] == value, f"{shown}\n({name})"
        if documented.body:
            assert matches(json.loads(documented.body), answer.json()), shown
        else:
            assert answer.content == b"", shown
        return answer

    def authenticate(self) -> None:
        """A token for the demo client, as Getting started asks for one."""
        answer = self.session.post(
            f"{self.base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.secret),
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["access_token"]


def describe(answer: requests.Response) -> str:
    lines = [f"HTTP/1.1 {answer.status_code} {answer.reason}"]
    lines += [f"{name}: {value}" for name, value in answer.headers.items()]
    try:
        body = json.dumps(answer.json(), indent=2, ensure_ascii=False)
    except ValueError:
        body = answer.text
    return "\n".join(lines) + "\n\n" + body

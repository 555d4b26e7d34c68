"""`filterExpression`: filters combined by their 1-based numbers with `and`, `or` and parentheses.

    expression := term ("or" term)*
    term       := factor ("and" factor)*          -- "and" binds tighter than "or"
    factor     := NUMBER | "(" expression ")"

A bare `and` or `or` combines every filter. Every filter must appear in the expression (one left
out is almost always a mistake in the client, so it is an error rather than silently dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class ExpressionError(Exception):
    """A malformed expression; the message names the position (1-based) and the token."""


@dataclass(frozen=True)
class Ref:
    number: int  # 1-based filter number


@dataclass(frozen=True)
class And:
    operands: tuple


@dataclass(frozen=True)
class Or:
    operands: tuple


Node = Ref | And | Or

MAX_DEPTH = 32
# Filter numbers in one expression, repeats counted: each is a branch of the SQL condition, and
# SQLite refuses an expression tree deeper than 1000.
MAX_REFERENCES = 100

_TOKEN = re.compile(r"\s*(?:(\d+)|(\()|(\))|([A-Za-z]+)|(\S))")


@dataclass(frozen=True)
class _Token:
    kind: str  # number, (, ), and, or, word, char, end
    text: str
    position: int  # 1-based


def _tokens(text: str) -> list[_Token]:
    out, index = [], 0
    while index < len(text):
        match = _TOKEN.match(text, index)
        if match is None:  # only trailing whitespace is left
            break
        number, opening, closing, word, char = match.groups()
        position = match.start(match.lastindex) + 1
        if number is not None:
            out.append(_Token("number", number, position))
        elif opening:
            out.append(_Token("(", "(", position))
        elif closing:
            out.append(_Token(")", ")", position))
        elif word is not None:
            lowered = word.lower()
            kind = lowered if lowered in ("and", "or") else "word"
            out.append(_Token(kind, word, position))
        else:
            out.append(_Token("char", char, position))
        index = match.end()
    out.append(_Token("end", "", len(text) + 1))
    return out


def references(node: Node | None):
    """Every filter reference in the tree, repeats included."""
    stack = [] if node is None else [node]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            yield node
        else:
            stack.extend(node.operands)


def parse(text: str, count: int) -> Node | None:
    """The expression over `count` filters as a tree; None when there are no filters."""
    stripped = text.strip().lower()
    if stripped in ("and", "or"):
        refs = tuple(Ref(n) for n in range(1, count + 1))
        if not refs:
            return None
        if len(refs) == 1:
            return refs[0]
        return And(refs) if stripped == "and" else Or(refs)
    parser = _Parser(_tokens(text), count)
    node = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        if token.kind == ")":
            raise ExpressionError(f"unmatched ')' at position {token.position}")
        raise ExpressionError(
            f"expected 'and', 'or' or the end at position {token.position}, found '{token.text}'"
        )
    missing = sorted(set(range(1, count + 1)) - parser.seen)
    if missing:
        names = ", ".join(str(n) for n in missing)
        plural = "s" if len(missing) > 1 else ""
        raise ExpressionError(
            f"filter{plural} {names} not used: every filter must appear in the expression"
        )
    return node


class _Parser:
    def __init__(self, tokens: list[_Token], count: int):
        self.tokens = tokens
        self.index = 0
        self.count = count
        self.seen: set[int] = set()
        self.depth = 0
        self.references = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expression(self) -> Node:
        operands = [self.term()]
        while self.peek().kind == "or":
            self.take()
            operands.append(self.term())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def term(self) -> Node:
        operands = [self.factor()]
        while self.peek().kind == "and":
            self.take()
            operands.append(self.factor())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def factor(self) -> Node:
        token = self.take()
        if token.kind == "number":
            self.references += 1
            if self.references > MAX_REFERENCES:
                raise ExpressionError(
                    f"more than {MAX_REFERENCES} filter numbers at position {token.position}: "
                    f"an expression names filters at most {MAX_REFERENCES} times"
                )
            # A number longer than any filter count is out of range: no need to convert it.
            number = int(token.text) if len(token.text) <= 9 else 0
            if not 1 <= number <= self.count:
                available = (
                    f"there are {self.count} filters" if self.count != 1 else "there is 1 filter"
                )
                if self.count == 0:
                    available = "there are no filters"
                raise ExpressionError(
                    f"filter {token.text} at position {token.position} does not exist: {available}"
                )
            self.seen.add(number)
            return Ref(number)
        if token.kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(
                    f"parentheses nested deeper than {MAX_DEPTH} levels at position "
                    f"{token.position}"
                )
            node = self.expression()
            self.depth -= 1
            closing = self.take()
            if closing.kind != ")":
                found = "the end" if closing.kind == "end" else f"'{closing.text}'"
                raise ExpressionError(
                    f"expected ')' to close '(' at position {token.position}, found {found} "
                    f"at position {closing.position}"
                )
            return node
        if token.kind == "end":
            raise ExpressionError(
                f"expected a filter number or '(' at position {token.position}, found the end"
            )
        raise ExpressionError(
            f"expected a filter number or '(' at position {token.position}, found '{token.text}'"
        )

"""Stripe's form encoding: `a[b][0][c]=v` <-> nested dicts and lists (what every v1 SDK sends).

The Python SDK always indexes arrays (`expand[0]=x`); curl users write `expand[]=x`. Both parse to lists.
Values stay strings: each endpoint coerces the fields it knows (see `params.py`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from devtools.stripe_double.errors import StripeError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_APPEND = object()


def parse_form(body: bytes | str) -> dict[str, Any]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


def parse_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise StripeError(f"Invalid parameter name: {key}", param=key)
        path: list[Any] = [match.group(1)] + [s if s != "" else _APPEND for s in _SEGMENT.findall(match.group(2))]
        _insert(root, path, value, key)
    return _finish(root, "")


def _insert(node: dict[Any, Any], path: list[Any], value: str, full_key: str) -> None:
    for i, segment in enumerate(path[:-1]):
        if segment is _APPEND:
            segment = _next_index(node)
        child = node.get(segment)
        if child is None:
            child = node[segment] = {}
        elif not isinstance(child, dict):
            raise StripeError(f"Invalid hash: {full_key} mixes a value and nested keys", param=full_key)
        node = child
    last = path[-1]
    if last is _APPEND:
        last = _next_index(node)
    if isinstance(node.get(last), dict):
        raise StripeError(f"Invalid hash: {full_key} mixes a value and nested keys", param=full_key)
    node[last] = value


def _next_index(node: dict[Any, Any]) -> str:
    return str(sum(1 for k in node if str(k).isdigit()))


def _finish(node: Any, name: str) -> Any:
    """Turn dicts whose keys are all 0..n-1 into lists, depth first."""
    if not isinstance(node, dict):
        return node
    done = {k: _finish(v, f"{name}[{k}]" if name else k) for k, v in node.items()}
    if done and all(str(k).isdigit() for k in done) and name:
        indexes = sorted(int(k) for k in done)
        if indexes != list(range(len(indexes))):
            raise StripeError(f"Invalid array: {name} must be indexed 0, 1, 2, ... without gaps", param=name)
        return [done[str(i)] for i in indexes]
    return done

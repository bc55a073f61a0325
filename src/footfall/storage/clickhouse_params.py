"""Positional `?` parameters, as the shared SQL writes them, in ClickHouse's typed form.

ClickHouse binds values server-side as `{name:Type}` placeholders, each value
sent as text beside the query. Every `?` outside a string literal becomes
`{pN:Type}`, the type following the Python value, so values are never pasted
into the SQL text on this engine either.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

# ClickHouse parses a parameter's text in its "escaped" (TSV) format.
_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "\b": "\\b", "\f": "\\f"}
)
_INT64_MAX = 2**63 - 1


def escape(text: str) -> str:
    """`text` in ClickHouse's escaped format (what a raw parameter value is parsed as)."""
    return text.translate(_ESCAPES)


def _timestamp(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _array_literal(values: Sequence[Any]) -> str:
    quoted = ("'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)
    return "[" + ", ".join(quoted) + "]"


def typed(value: Any) -> tuple[str, str | None]:
    """(ClickHouse type, value as unescaped text, None for NULL) of one Python value."""
    if value is None:
        return "Nullable(String)", None
    if isinstance(value, bool):
        return "Bool", "true" if value else "false"
    if isinstance(value, int):
        return ("Int64" if value <= _INT64_MAX else "UInt64"), str(value)
    if isinstance(value, float):
        return "Float64", repr(value)
    if isinstance(value, uuid.UUID):
        return "UUID", str(value)
    if isinstance(value, dt.datetime):
        return "DateTime64(6, 'UTC')", _timestamp(value)
    if isinstance(value, dt.date):
        return "Date32", value.isoformat()
    if isinstance(value, (list, tuple)):
        return "Array(String)", _array_literal(value)
    return "String", str(value)


def placeholders(sql: str, params: Sequence[Any]) -> tuple[str, dict[str, str | None]]:
    """`sql` with each `?` (outside '…' literals) as `{pN:Type}`, and the values by name."""
    out: list[str] = []
    values: dict[str, str | None] = {}
    in_literal = False
    index = 0
    for char in sql:
        if char == "'":
            in_literal = not in_literal  # '' inside a literal toggles twice: still inside
        if char == "?" and not in_literal:
            if index >= len(params):
                raise ValueError(f"the SQL has more ? than the {len(params)} parameters given")
            kind, text = typed(params[index])
            name = f"p{index}"
            out.append(f"{{{name}:{kind}}}")
            values[name] = text
            index += 1
        else:
            out.append(char)
    if index != len(params):
        raise ValueError(f"the SQL has {index} ? for {len(params)} parameters")
    return "".join(out), values

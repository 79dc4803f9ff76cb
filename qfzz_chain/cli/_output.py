"""Output helpers shared by every command: ``--json`` for scripts, aligned text for people."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import click

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text."
)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, bytes and tuples to plain JSON types (bytes as 0x-hex)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    return value


def emit(value: Any, as_json: bool, render: Callable[[Any], str] | None = None) -> None:
    """Print ``value`` as JSON when asked, else with ``render`` (default: key/value lines)."""
    if as_json:
        click.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=True))
    elif render is not None:
        click.echo(render(value))
    else:
        click.echo(key_values(to_jsonable(value)))


def key_values(mapping: dict[str, Any]) -> str:
    width = max((len(k) for k in mapping), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in mapping.items())


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain aligned text table of ``columns`` taken from each row."""
    cells = [[str(row.get(c, "")) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)

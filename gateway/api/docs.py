"""The API documentation page: plain HTML rendered on the server from the OpenAPI
document, so it works with no network at all (no CDN, no script)."""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

STYLE = """
body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2.5rem}
.op{border:1px solid #ddd;border-radius:6px;margin:1rem 0;padding:.5rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:bold;font-family:monospace}
.GET{color:#0a6}.POST{color:#06c}.PUT{color:#a60}.PATCH{color:#a0a}.DELETE{color:#c00}
code,.path{font-family:monospace}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
.roles{color:#555}.pii{color:#c00;font-size:.85em}
"""

# The page's policy: nothing loads, framing is refused, and the one inline <style> is
# allowed by its hash (no 'unsafe-inline').
CSP = (
    "default-src 'none'; style-src 'sha256-"
    + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    + "'; frame-ancestors 'none'"
)


def _ref_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    if schema.get("type") == "array":
        return "array of " + _ref_name(schema.get("items"))
    return escape(schema.get("type", "object"))


def _type(prop: dict[str, Any]) -> str:
    text = _ref_name(prop)
    if prop.get("format"):
        text += f" ({escape(str(prop['format']))})"
    if prop.get("enum"):
        text += ": " + " | ".join(escape(str(v)) for v in prop["enum"])
    return text


def _content_schema(obj: dict[str, Any], spec: dict[str, Any]) -> str:
    if "$ref" in obj:
        obj = spec["components"]["responses"].get(obj["$ref"].rsplit("/", 1)[-1], {})
    parts = []
    for ctype, media in (obj.get("content") or {}).items():
        parts.append(f"<code>{escape(ctype)}</code> {_ref_name(media.get('schema'))}")
    return "; ".join(parts)


def operation_parameters(item: dict[str, Any], op: dict[str, Any]) -> list[dict[str, Any]]:
    """An operation's parameters: its path item's, overridden by its own of the same name and
    location (OpenAPI 3.0, Path Item Object ``parameters``)."""
    own = op.get("parameters", [])
    mine = {(p.get("name"), p.get("in")) for p in own}
    return [p for p in item.get("parameters", []) if (p.get("name"), p.get("in")) not in mine] + own


def render(spec: dict[str, Any]) -> str:
    info = spec.get("info", {})
    out = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(info.get('title', 'API'))}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(str(info.get('version', '')))}</small></h1>",
        "<p>Machine-readable: <a href='/api/openapi.json'>/api/openapi.json</a>. "
        "Conventions: <code>docs/api.md</code>.</p>",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method == "parameters":
                continue
            # Resolved here, while ``item`` is this path's: the rendering loop below has no path item.
            params = operation_parameters(item, op)
            for tag in op.get("tags") or ["other"]:
                by_tag.setdefault(tag, []).append((path, method.upper(), op, params))
    out.append("<h2>Operations</h2>")
    for tag in sorted(by_tag):
        out.append(f"<h3>{escape(tag)}</h3>")
        for path, method, op, params in by_tag[tag]:
            out.append(
                f"<div class='op'><span class='m {method}'>{method}</span> <span class='path'>{escape(path)}</span>"
                f" — {escape(op.get('summary', ''))}"
            )
            if op.get("x-roles"):
                out.append(f"<div class='roles'>roles: {escape(', '.join(op['x-roles']))}</div>")
            if op.get("description"):
                out.append(f"<p>{escape(op['description'])}</p>")
            if params:
                out.append(
                    "<table><tr><th>parameter</th><th>in</th><th>type</th><th>required</th><th>about</th></tr>"
                )
                for p in params:
                    out.append(
                        f"<tr><td><code>{escape(p.get('name', ''))}</code></td><td>{escape(p.get('in', ''))}</td>"
                        f"<td>{_type(p.get('schema', {}))}</td><td>{'yes' if p.get('required') else ''}</td>"
                        f"<td>{escape(p.get('description', ''))}</td></tr>"
                    )
                out.append("</table>")
            if op.get("requestBody"):
                out.append(f"<div>body: {_content_schema(op['requestBody'], spec)}</div>")
            out.append("<table><tr><th>status</th><th>answer</th></tr>")
            for status, resp in op.get("responses", {}).items():
                out.append(f"<tr><td>{escape(str(status))}</td><td>{_content_schema(resp, spec)}</td></tr>")
            out.append("</table></div>")
    out.append("<h2>Schemas</h2>")
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        out.append(f"<h3 id='schema-{escape(name)}'>{escape(name)}</h3>")
        if schema.get("description"):
            out.append(f"<p>{escape(schema['description'])}</p>")
        out.append("<table><tr><th>field</th><th>type</th><th>required</th><th>about</th></tr>")
        for field, prop in (schema.get("properties") or {}).items():
            pii = (
                f" <span class='pii'>PII ({escape(str(prop['x-pii']))}), masked</span>"
                if prop.get("x-pii")
                else ""
            )
            out.append(
                f"<tr><td><code>{escape(field)}</code></td><td>{_type(prop)}</td>"
                f"<td>{'yes' if field in required else ''}</td>"
                f"<td>{escape(prop.get('description', ''))}{pii}</td></tr>"
            )
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out)

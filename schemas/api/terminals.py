"""The terminal registry in the HTTP API: a POS terminal as registered, changed and read,
and a CSV load's report. A district is a Shenzhen district's GB/T 2260 code or its name
(``440304`` or ``福田区``), ``DAPENG`` (大鹏新区), ``SHENSHAN`` (深汕特别合作区), or
``OUTSIDE``; it is answered as the code, with its name."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.api.common import page_of

TERMINAL_ID = validate.Regexp(
    r"^[A-Z0-9][A-Z0-9-]{0,19}$", error="1-20 upper-case letters, digits or hyphens"
)
DISTRICT_DOC = "a district's code (440304, DAPENG, SHENSHAN, OUTSIDE) or its name (福田区)"
# The largest CSV that fits the request limit (4 MB) as a JSON string: some 40,000 terminals.
MAX_CSV = 3_500_000


def _n(field: fields.Field) -> fields.Field:
    field.required = True
    return field


def _text(max_len: int, **kw) -> fields.String:
    return fields.String(validate=validate.Length(1, max_len), **kw)


class TerminalChangeSchema(Schema):
    """Any of the terminal's fields; null clears the site or the coordinates."""

    organisation = _text(100)
    district = _text(20, metadata={"description": DISTRICT_DOC})
    site_name = _text(100, allow_none=True)
    latitude = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    active = fields.Boolean(metadata={"description": "false: swipes at it are refused (terminal-inactive)"})


class TerminalInSchema(TerminalChangeSchema):
    """A terminal to register. Coordinates go together, and a Shenzhen district's lie in
    the city (422 coordinates)."""

    terminal_id = fields.String(required=True, validate=TERMINAL_ID)
    organisation = _text(100, required=True)
    district = _text(20, required=True, metadata={"description": DISTRICT_DOC})
    site_name = _text(100, load_default=None, allow_none=True)
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    active = fields.Boolean(load_default=True)


class TerminalSchema(Schema):
    terminal_id = fields.String(required=True)
    organisation = fields.String(required=True)
    district = fields.String(required=True, metadata={"description": "the district's code"})
    district_name = fields.String(required=True)
    site_name = _n(fields.String(allow_none=True))
    latitude = _n(fields.Float(allow_none=True))
    longitude = _n(fields.Float(allow_none=True))
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class TerminalListArgsSchema(Schema):
    district = _text(20, metadata={"description": DISTRICT_DOC})
    organisation = _text(100)
    active = fields.Boolean()


class TerminalLoadSchema(Schema):
    """A CSV file of terminals (columns terminal_id, organisation, district, site_name,
    latitude, longitude, active), as text."""

    file_name = fields.String(
        load_default="upload.csv",
        validate=validate.Regexp(r"^[^/\\\x00-\x1f]{1,100}$", error="1-100 characters, no path"),
        metadata={"description": "named in the report and in each terminal's source"},
    )
    csv = fields.String(required=True, validate=validate.Length(1, MAX_CSV))


class RowErrorSchema(Schema):
    line = fields.Integer(required=True, metadata={"description": "the header is line 1"})
    column = fields.String(required=True)
    rule = fields.String(required=True)


class LoadReportSchema(Schema):
    file = fields.String(required=True)
    rows = fields.Integer(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    errors = fields.List(
        fields.Nested(RowErrorSchema), required=True, metadata={"description": "each bad row, skipped"}
    )


TerminalPageSchema = page_of(TerminalSchema, "TerminalPage")

"""Partner-file schemas and the pipe-file codec (partners/README.md and the partner specs).

Public interface (imports nothing of the gateway):

* ``read(source, *, file_name, expected_type, sender, receiver, branches, fast)`` →
  :class:`Reader`, iterating ``Record | RecordError``; :class:`FileError` (E03/E04/E05)
  possibly only at the end — see ``schemas.reader`` for the contract.
* ``read_package(...)`` → the same for a CARDORDER ZIP package (``schemas.package``).
* ``write(out, file_type, records, *, sender, receiver, business_date, seq,
  created_time)`` → :class:`WriteResult` with ``refused``; ``write_package`` for
  CARDORDER.
* ``build_ack(outcomes, ...)`` and ``accepted`` / ``partial`` / ``rejected`` /
  ``outcome_of`` (``schemas.ack``).
* ``sample_records`` / ``sample_file`` / ``write_sample`` (``schemas.samples``).
* ``SCHEMAS[type]``: the marshmallow schema class of each record type
  (``SCHEMAS["SWIPE"](Context.of(business_date)).load({...})``).
"""

from schemas.ack import AckOutcome, accepted, build_ack, outcome_of, partial, rejected
from schemas.errors import FileError, RecordError, WriteRefused
from schemas.package import read_package, write_package
from schemas.reader import Header, Reader, Record, Summary, read
from schemas.recordtypes import TYPES, Context
from schemas.validate import SCHEMAS
from schemas.writer import WriteResult, file_name, write, write_bytes

__all__ = [
    "SCHEMAS",
    "TYPES",
    "AckOutcome",
    "Context",
    "FileError",
    "Header",
    "Reader",
    "Record",
    "RecordError",
    "Summary",
    "WriteRefused",
    "WriteResult",
    "accepted",
    "build_ack",
    "file_name",
    "outcome_of",
    "partial",
    "read",
    "read_package",
    "rejected",
    "write",
    "write_bytes",
    "write_package",
]

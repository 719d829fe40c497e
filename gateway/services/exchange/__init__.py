"""The file exchange engine: everything the file partners have in common, split by
concern and tied to no transport (each function takes the ``Ports`` its caller built).

- ``outbound``: the SEQ claim (the unique ``identity`` of the file row decides between
  two workers), writing, sealing, spooling, both archive copies, then the upload with the
  row locked, by the partner's file transport or another ``Deliver`` (the insurer's
  roster goes in a SOAP call). A file ``prepared`` but not ``sent`` (a crash between the
  two) is uploaded again, with the same bytes, on the next run.
- ``inbound``: list the partner's outbox, skip stored names, hold a stored name whose
  size changed, download and archive the new ones, spot a duplicate of stored bytes.
- ``apply``: open, read and apply one received file in **one** transaction (E01-E07).
- ``acks``: the partner's ACKs for our files, applied; the ACKs we owe, sent.
- ``replay``: a rejected file processed again, with an operator's comment.

This package's names are the engine's interface; its callers use them from here.
"""

from gateway.services.exchange.acks import send_acks
from gateway.services.exchange.apply import NOT_APPLIED_ALERT, pending_inbound, process
from gateway.services.exchange.inbound import FetchReport, fetch, record_download
from gateway.services.exchange.outbound import (
    Deliver,
    Draft,
    Plan,
    SendReport,
    UploadsFailed,
    claim,
    over_file_transport,
    prepare,
    send,
    upload,
    upload_stranded,
)
from gateway.services.exchange.replay import ReplayRefused, replay

__all__ = [
    "NOT_APPLIED_ALERT",
    "Deliver",
    "Draft",
    "FetchReport",
    "Plan",
    "ReplayRefused",
    "SendReport",
    "UploadsFailed",
    "claim",
    "fetch",
    "over_file_transport",
    "pending_inbound",
    "prepare",
    "process",
    "record_download",
    "replay",
    "send",
    "send_acks",
    "upload",
    "upload_stranded",
]

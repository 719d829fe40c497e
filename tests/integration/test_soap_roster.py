"""UploadRoster end to end: a real INSROSTER, sealed for BOCINS, opened by the sandbox insurer."""

from __future__ import annotations

from datetime import date

import pytest

from adapters.insurer.client import InsurerClient
from adapters.soap import SoapEndpoint
from keys.envelope import seal
from keys.identity import make_identity
from sandbox.insurer_roster import RosterDesk
from sandbox.soap_sandbox import SoapSandbox
from sandbox.wire import Party, SvaCerts
from schemas.samples import sample_file

DAY = date(2027, 1, 12)


@pytest.fixture(scope="module")
def parties():
    return {
        "bocins": make_identity("BOCINS sandbox"),
        "sva_sign": make_identity("SVA signing"),
        "sva_decrypt": make_identity("SVA decryption"),
        "stranger": make_identity("Stranger"),
    }


@pytest.fixture
def desk(parties):
    cert, key = parties["bocins"]
    return RosterDesk(Party("BOCINS", cert, key), SvaCerts(parties["sva_sign"][0], parties["sva_decrypt"][0]))


@pytest.fixture
def client(desk):
    with SoapSandbox(roster_handler=desk) as sb:
        user, password = sb.credentials["BOCINS"]
        c = InsurerClient(SoapEndpoint(sb.insurer_url, user, password, timeout=10))
        yield c
        c.close()


def sealed(parties, plain: bytes, *, signer: str = "sva_sign") -> bytes:
    cert, key = parties[signer]
    return seal(plain, cert, key, [parties["bocins"][0]])


def test_sealed_roster_is_accepted_and_read_whole(client, desk, parties):
    name, plain = sample_file("INSROSTER", 120, business_date=DAY)
    answer = client.upload_roster(name + ".p7m", sealed(parties, plain))
    assert (answer.result, answer.error_code) == ("ACCEPTED", None) and answer.roster_id
    assert len(desk.received[name + ".p7m"].records) == 120


def test_roster_with_a_bad_record_is_partial_naming_line_and_field(client, parties):
    name, plain = sample_file("INSROSTER", 3, business_date=DAY)
    lines = plain.split(b"\r\n")
    lines[2] = b"D|12345|" + lines[2].split(b"|", 2)[2]  # second D line: volunteer_no too short
    answer = client.upload_roster(name + ".p7m", sealed(parties, b"\r\n".join(lines)))
    assert (answer.result, answer.error_code) == ("PARTIAL", "E07")
    assert answer.error_text.startswith("line:3:volunteer_no:")


def test_roster_signed_by_someone_else_is_rejected_e02(client, parties):
    name, plain = sample_file("INSROSTER", 2, business_date=DAY)
    answer = client.upload_roster(name + ".p7m", sealed(parties, plain, signer="stranger"))
    assert (answer.result, answer.error_code) == ("REJECTED", "E02")


def test_file_for_another_partner_through_upload_roster_is_rejected_e05(client, parties):
    # A TRANSITREQ is addressed to SZT: the receiver check (E05) comes before E04.
    name, plain = sample_file("TRANSITREQ", 2, business_date=DAY)
    answer = client.upload_roster("INSROSTER_SVA_20270112_009.txt.p7m", sealed(parties, plain))
    assert (answer.result, answer.error_code) == ("REJECTED", "E05")


def test_name_disagreeing_with_header_is_rejected_e04(client, parties):
    name, plain = sample_file("INSROSTER", 2, business_date=DAY)
    answer = client.upload_roster("INSROSTER_SVA_20270112_002.txt.p7m", sealed(parties, plain))
    assert (answer.result, answer.error_code) == ("REJECTED", "E04")

"""UploadRoster end to end: a real INSROSTER, sealed for BOCINS, opened by the sandbox insurer."""

from __future__ import annotations

import base64
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


# ---- finding 4: README "Envelope": the checks run E01, E02, E03, E05, E04 (then E07), and
# the first failure in that order gives the code, whatever else is wrong with the file.

BAD_NAME = "BAD.txt.p7m"
GOOD_NAME = "INSROSTER_SVA_20270112_001.txt.p7m"


def not_gb18030(plain: bytes) -> bytes:
    """The file with one byte that no GB18030 sequence starts with, on the first D line."""
    lines = plain.split(b"\r\n")
    lines[1] = lines[1] + b"\x80"
    return b"\r\n".join(lines)


def bad_record(plain: bytes) -> bytes:
    lines = plain.split(b"\r\n")
    lines[1] = b"D|12345|" + lines[1].split(b"|", 2)[2]  # volunteer_no too short: E07
    return b"\r\n".join(lines)


def roster() -> bytes:
    return sample_file("INSROSTER", 2, business_date=DAY)[1]


def transit() -> bytes:  # addressed to SZT, so E05 at BOCINS
    return sample_file("TRANSITREQ", 2, business_date=DAY)[1]


def sealed_to_stranger(parties, plain: bytes) -> bytes:
    cert, key = parties["stranger"]
    return seal(plain, cert, key, [cert])  # BOCINS cannot decrypt it (and the signer is unknown)


CASES = {
    # name, content builder, code due
    "bad_name_and_bad_content_is_e01": (BAD_NAME, lambda p: b"\x00\x00\x00", "E01"),
    "bad_name_and_undecryptable_is_e01": (BAD_NAME, lambda p: sealed_to_stranger(p, roster()), "E01"),
    "undecryptable_and_untrusted_signer_is_e01": (
        GOOD_NAME, lambda p: sealed_to_stranger(p, not_gb18030(transit())), "E01"
    ),
    "bad_name_and_untrusted_signer_is_e02": (
        BAD_NAME, lambda p: sealed(p, roster(), signer="stranger"), "E02"
    ),
    "untrusted_signer_and_not_gb18030_is_e02": (
        GOOD_NAME, lambda p: sealed(p, not_gb18030(roster()), signer="stranger"), "E02"
    ),
    "bad_name_and_not_gb18030_is_e03": (BAD_NAME, lambda p: sealed(p, not_gb18030(roster())), "E03"),
    "not_gb18030_and_wrong_receiver_is_e03": (
        GOOD_NAME, lambda p: sealed(p, not_gb18030(transit())), "E03"
    ),
    "bad_name_and_wrong_receiver_is_e05": (BAD_NAME, lambda p: sealed(p, transit()), "E05"),
    "bad_name_and_bad_record_is_e04": (BAD_NAME, lambda p: sealed(p, bad_record(roster())), "E04"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_finding_4_upload_roster_checks_in_readme_order(client, parties, case):
    name, content, code = CASES[case]
    answer = client.upload_roster(name, content(parties))
    assert (answer.result, answer.error_code) == ("REJECTED", code), answer.error_text


def test_finding_4_default_handler_answers_e01_before_the_name():
    # The stand-in handler (no keys at hand) keeps the order too: the issue's own call.
    with SoapSandbox() as sb:
        user, password = sb.credentials["BOCINS"]
        c = InsurerClient(SoapEndpoint(sb.insurer_url, user, password, timeout=10))
        try:
            answer = c.upload_roster(BAD_NAME, base64.b64decode("AAAA"))
        finally:
            c.close()
    assert (answer.result, answer.error_code) == ("REJECTED", "E01")

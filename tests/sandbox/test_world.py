"""The sandbox world: partner identities, loopback servers, and what it exports for a gateway."""

from __future__ import annotations

import io
from datetime import date
from urllib.parse import urlsplit

import paramiko
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import load_pem_x509_certificate

from keys.identity import cert_pem, check_profile
from sandbox.world import World
from tests.sandbox.world_kit import QUIET_BANK, make_world, plain_file, records, sva

D = date(2027, 1, 12)


def _sftp(world, endpoint):
    url = urlsplit(endpoint.url)
    host_keys = paramiko.HostKeys(str(endpoint.known_hosts_path))
    entry = host_keys.lookup(f"[{url.hostname}]:{url.port}")
    assert entry is not None
    key_pem = sva().ssh_private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    client_key = paramiko.Ed25519Key.from_private_key(io.StringIO(key_pem.decode()))
    transport = paramiko.Transport((url.hostname, url.port))
    transport.connect(hostkey=next(iter(entry.values())), username=url.username, pkey=client_key)
    return transport, paramiko.SFTPClient.from_transport(transport)


def test_world_serves_each_partner_and_exports_what_a_gateway_needs(tmp_path):
    world = make_world(tmp_path / "w", bank=QUIET_BANK)
    with world:
        eps = {e.partner: e for e in world.endpoints()}
        assert set(eps) == {"BOCSZ", "SZT", "SZVF", "SZHC", "BOCINS"}
        for e in eps.values():
            check_profile(load_pem_x509_certificate(e.cert_path.read_bytes()))  # what `keys trust` accepts
        env = world.gateway_env()
        assert env["SVCARD_PARTNER_SZT_URL"] == eps["SZT"].url and eps["SZT"].url.startswith(
            "sftp://szt@127.0.0.1:"
        )
        assert env["SVCARD_PARTNER_SZHC_URL"].startswith("http://127.0.0.1:")
        assert env["SVCARD_PARTNER_BOCINS_PASSWORD"] == eps["BOCINS"].password
        exported = (world.root / "export" / "gateway.env").read_text().splitlines()
        assert exported == [f"export {k}={v}" for k, v in env.items()]  # a shell can source it
        assert f"svcard keys trust-host SZT {eps['SZT'].known_hosts_path}" in world.trust_commands()

        # SVA's side: upload a TRANSITREQ over SFTP as .part then rename; the partner answers
        transport, sftp = _sftp(world, eps["SZT"])
        try:
            name, plain = plain_file(
                "TRANSITREQ", "SZT", D,
                [{"request_id": "TR1", "action": "ENABLE", "card_id": "K7Q2M9X4B1C8D3E5",
                  "volunteer_no": "2019004417", "effective_date": D}],
            )  # fmt: skip
            from keys.envelope import seal

            sealed = seal(plain, *sva().sign, [world.identities["SZT"].cert])
            with sftp.open(f"inbox/{name}.p7m.part", "wb") as f:
                f.write(sealed)
            sftp.rename(f"inbox/{name}.p7m.part", f"inbox/{name}.p7m")
            world.run_day(D)
            listing = sorted(sftp.listdir("outbox"))
            assert listing == ["ACK_SZT_20270112_001.txt.p7m", "TRANSITACK_SZT_20270112_001.txt.p7m"]
        finally:
            sftp.close()
            transport.close()
        # the world wires Shenzhen Tong to the bank: a card the bank never made is unknown (T01)
        assert [(r["request_id"], r["reason_code"]) for r in records(world, "SZT", "TRANSITACK")] == [
            ("TR1", "T01")
        ]

        answer = requests.post(eps["SZHC"].url, data=b"<not-soap/>", timeout=5)
        assert answer.status_code in (400, 401, 500) and b"Fault" in answer.content
        ports = (world.sftp.port, world.soap.health_server.port)

    again = make_world(tmp_path / "w", bank=QUIET_BANK)  # identities and host key kept; same ports if free
    with again:
        assert (again.sftp.port, again.soap.health_server.port) == ports
        assert again.identities["BOCSZ"].cert == world.identities["BOCSZ"].cert
        assert again.host_key.get_base64() == world.host_key.get_base64()


def test_after_sva_rotates_its_signing_key_both_old_and_new_are_accepted(tmp_path):
    from keys.identity import make_identity
    from tests.sandbox.world_kit import acks, identity_cache, put

    s = sva()
    first = make_world(tmp_path / "w")
    first.close()
    new_sign = make_identity("SVA sign rotated")
    world = World.create(
        tmp_path / "w", sva_sign_cert_pem=cert_pem(new_sign[0]), sva_decrypt_cert_pem=cert_pem(s.decrypt[0]),
        sva_ssh_public_line=s.ssh_public_line, identity_cache=identity_cache(),
    )  # fmt: skip
    old_name, old_plain = plain_file("TRANSITREQ", "SZT", D, [], seq=1)
    new_name, new_plain = plain_file("TRANSITREQ", "SZT", D, [], seq=2)
    put(world, "SZT", old_name, old_plain, signer=s.sign)
    put(world, "SZT", new_name, new_plain, signer=new_sign)
    world.transit.run_day(D)
    got = {n: a["status"] for n, a in acks(world, "SZT").items()}
    assert got == {old_name + ".p7m": "ACCEPTED", new_name + ".p7m": "ACCEPTED"}
    world.close()

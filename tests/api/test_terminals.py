"""Terminal routes: operators and admins register, change and load terminals (CSV, bad rows
refused with line and field), the platform reads them; districts by code or name."""

from __future__ import annotations

from tests.api.conftest import bearer

PROBLEM = "application/problem+json"
CSV = (
    "terminal_id,organisation,district,site_name,latitude,longitude,active\n"
    "POS-FT-0001,福田区义工联,福田区,市民中心,22.5431,114.0579,Y\n"
    "POS-NS-0001,南山区义工联,440305,,,,\n"
    "POS-BAD-1,宝安区义工联,东莞市,,,,\n"
    "POS-BAD-2,宝安区义工联,宝安区,,22.55,,Y\n"
)


def post(client, token: str, url: str, body: dict, key: str):
    return client.post(url, json=body, headers=bearer(token, **{"Idempotency-Key": key}))


def test_operators_register_and_change_terminals_the_platform_reads_them(client, tokens) -> None:
    body = {"terminal_id": "POS-LH-0001", "organisation": "罗湖区义工联", "district": "罗湖区",
            "site_name": "东门", "latitude": 22.5455, "longitude": 114.12}  # fmt: skip
    assert post(client, tokens["platform"], "/api/terminals", body, "t1").status_code == 403
    created = post(client, tokens["operator"], "/api/terminals", body, "t1")
    assert created.status_code == 201, created.get_json()
    t = created.get_json()
    assert (t["district"], t["district_name"], t["latitude"], t["active"]) == (
        "440303",
        "罗湖区",
        22.5455,
        True,
    )
    twice = post(client, tokens["admin"], "/api/terminals", body, "t2")
    assert twice.status_code == 409 and twice.get_json()["type"].endswith("/terminal-exists")

    changed = client.patch(
        "/api/terminals/POS-LH-0001",
        json={"active": False, "site_name": None},
        headers=bearer(tokens["admin"]),
    )
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert changed.get_json()["site_name"] is None
    bad = client.patch(
        "/api/terminals/POS-LH-0001", json={"district": "东莞"}, headers=bearer(tokens["operator"])
    )
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    assert bad.get_json()["type"].endswith("/unknown-district") and bad.get_json()["field"] == "district"
    far = client.patch(
        "/api/terminals/POS-LH-0001",
        json={"latitude": 39.9, "longitude": 116.4},
        headers=bearer(tokens["operator"]),
    )
    assert far.status_code == 422 and far.get_json()["code"] == "coordinates"

    read = client.get("/api/terminals/POS-LH-0001", headers=bearer(tokens["platform"]))
    assert read.status_code == 200 and read.get_json()["terminal_id"] == "POS-LH-0001"
    missing = client.get("/api/terminals/POS-NONE", headers=bearer(tokens["platform"]))
    assert missing.status_code == 404 and missing.get_json()["type"].endswith("/terminal-not-found")
    listed = client.get("/api/terminals?district=440303&active=false", headers=bearer(tokens["auditor"]))
    assert [t["terminal_id"] for t in listed.get_json()["items"]] == ["POS-LH-0001"]
    assert (
        client.get("/api/terminals?district=福田区", headers=bearer(tokens["auditor"])).get_json()["items"]
        == []
    )


def test_a_csv_upload_keeps_the_good_rows_and_names_line_and_field_of_the_bad(client, tokens) -> None:
    r = post(client, tokens["operator"], "/api/terminals/load", {"csv": CSV, "file_name": "pos.csv"}, "l1")
    assert r.status_code == 200, r.get_json()
    report = r.get_json()
    assert (report["file"], report["rows"], report["created"], report["unchanged"]) == ("pos.csv", 4, 2, 0)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(4, "district"), (5, "longitude")]
    assert report["errors"][0]["rule"].startswith("UNKNOWN_DISTRICT")
    items = client.get("/api/terminals", headers=bearer(tokens["platform"])).get_json()["items"]
    assert [(t["terminal_id"], t["district"]) for t in items] == [
        ("POS-FT-0001", "440304"),
        ("POS-NS-0001", "440305"),
    ]
    again = post(client, tokens["admin"], "/api/terminals/load", {"csv": CSV}, "l2").get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    header = post(client, tokens["operator"], "/api/terminals/load", {"csv": "terminal_id\nX\n"}, "l3")
    assert header.status_code == 422 and header.get_json()["code"] == "header"

"""deploy/prometheus: the rules and the scrape config pass promtool's checks and unit
tests; every rule names only metrics of docs/metrics.md, carries a severity, a summary, a
description and a runbook link whose anchor is a heading of docs/runbook.md; every alert
has a unit test where it fires and one where it does not."""

from __future__ import annotations

import re
import shlex
import subprocess
from collections import Counter
from pathlib import Path

import click
import pytest
import yaml

from gateway.cli import svcard
from tests.deploy.conftest import PROMETHEUS_DIR, ROOT, RULES, alert_rules

RULE_TESTS = (PROMETHEUS_DIR / "rules_test.yml", PROMETHEUS_DIR / "rules_test_dates.yml")
RUNBOOK = ROOT / "docs" / "runbook.md"
RUNBOOK_URL = "https://git.sva.example/svcard-gateway/-/blob/main/docs/runbook.md#"
SEVERITIES = {"critical", "warning", "info"}


def _promtool(promtool: str, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([promtool, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_promtool_checks_the_rules(promtool: str) -> None:
    out = _promtool(promtool, "check", "rules", RULES.name).stdout
    assert f"SUCCESS: {len(alert_rules())} rules found" in out


@pytest.mark.slow
def test_promtool_unit_tests_pass(promtool: str) -> None:
    out = _promtool(promtool, "test", "rules", *(p.name for p in RULE_TESTS)).stdout
    assert out.count("SUCCESS") == len(RULE_TESTS), out


def test_promtool_checks_the_scrape_config(promtool: str) -> None:
    out = _promtool(promtool, "check", "config", "prometheus.yml").stdout
    assert "prometheus.yml is valid prometheus config file syntax" in out
    assert "SUCCESS: 1 rule files found" in out


def test_every_alert_fires_and_stays_quiet_in_a_unit_test() -> None:
    fired: Counter[str] = Counter()
    quiet: Counter[str] = Counter()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check["exp_alerts"] else quiet)[check["alertname"]] += 1
    names = [a["alert"] for a in alert_rules()]
    assert len(names) == len(set(names))
    assert [n for n in names if not fired[n]] == []
    assert [n for n in names if not quiet[n]] == []


def test_every_alert_has_severity_summary_description_and_runbook_link() -> None:
    for alert in alert_rules():
        name = alert["alert"]
        assert alert["labels"]["severity"] in SEVERITIES, name
        notes = alert["annotations"]
        assert notes["summary"].strip() and notes["description"].strip(), name
        assert notes["runbook_url"].startswith(RUNBOOK_URL), name


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and GitLab) give a heading: lower case, punctuation dropped
    (letters of any script, digits, '_' and '-' stay), spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(markdown: str) -> set[str]:
    seen: Counter[str] = Counter()
    out = set()
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"#{1,6} (.+)$", line)
        if m:
            anchor = github_anchor(m.group(1))
            out.add(anchor if not seen[anchor] else f"{anchor}-{seen[anchor]}")  # as GitHub numbers repeats
            seen[anchor] += 1
    return out


def test_github_anchor() -> None:
    heading = "SvcardDonationsNotReconciled: last month's donations not reconciled by the 10th"
    assert (
        github_anchor(heading)
        == "svcarddonationsnotreconciled-last-months-donations-not-reconciled-by-the-10th"
    )
    assert github_anchor("The gateway is not ready (`/readyz` 503, `svcard doctor` FAIL)") == (
        "the-gateway-is-not-ready-readyz-503-svcard-doctor-fail"
    )


def test_every_runbook_link_is_a_heading_of_the_runbook() -> None:
    anchors = _anchors(RUNBOOK.read_text(encoding="utf-8"))
    missing = [
        (a["alert"], a["annotations"]["runbook_url"])
        for a in alert_rules()
        if a["annotations"]["runbook_url"].split("#", 1)[1] not in anchors
    ]
    assert missing == []
    # one section per alert, named after it
    for alert in alert_rules():
        anchor = alert["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor.startswith(alert["alert"].lower() + "-"), alert["alert"]


def _documented_metrics() -> set[str]:
    doc = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(svcard_[a-z_]+)` \|", doc, flags=re.MULTILINE))


def test_rules_use_only_documented_metrics() -> None:
    documented = _documented_metrics()
    assert "svcard_files_total" in documented  # the table was read
    used = {m for a in alert_rules() for m in re.findall(r"\bsvcard_[a-z_]+", a["expr"])}
    assert used and used <= documented, sorted(used - documented)


def _check_command_line(line: str) -> None:
    """`svcard GROUP [SUB] [ARGS] [--option ...]`: the command exists and takes those
    options (arguments and option values are not checked)."""
    words = shlex.split(line)
    ctx = click.Context(svcard)
    cmd: click.Command | None = svcard
    path = ["svcard"]
    for word in words[1:]:
        if not isinstance(cmd, click.Group) or word.startswith("-"):
            break
        cmd = cmd.get_command(ctx, word)
        path.append(word)
        assert cmd is not None, f"{line!r}: no command {' '.join(path)}"
    options = {opt for param in cmd.params for opt in param.opts}
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"{line!r}: {' '.join(path)} has no {word}"


def test_the_runbook_names_only_svcard_commands_that_exist() -> None:
    """Every `svcard ...` command quoted in docs/runbook.md is a command of the CLI, with
    options it has."""
    spans = re.findall(r"`(svcard [^`]+)`", RUNBOOK.read_text(encoding="utf-8"))
    assert len(spans) > 40
    for span in spans:
        _check_command_line(span)


def test_rule_files_are_where_the_config_says() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    assert [Path(p).name for p in config["rule_files"]] == [RULES.name]
    assert {job["job_name"] for job in config["scrape_configs"]} == {"svcard-api", "svcard-metrics"}

"""deploy/: Prometheus config and alert rules pass promtool (with rule unit tests), and the Grafana
dashboard is valid and only queries metrics newsflow really exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from services.api.metrics import REGISTRY as API_REGISTRY  # the API's own registry
from shared.metrics import (  # registers every metric too
    ActiveStoriesCollector,
    LedgerCollector,
    QueueDepthCollector,
)
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
METRIC_NAME = re.compile(r"\bnewsflow[_:][a-z0-9_:]*")


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must check deploy/ with promtool (Debian package prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


def _exported_names() -> set[str]:
    """Every sample name newsflow can expose, as PromQL sees them."""
    # Gauges read at scrape time by custom collectors (queue depth, the receipt ledger).
    scraped = [
        *QueueDepthCollector(["ingest"], lambda _: 0).collect(),
        *LedgerCollector(lambda: (0, 0)).collect(),
        *ActiveStoriesCollector(lambda _: 0).collect(),
    ]
    names = {family.name for family in scraped}
    for family in [*REGISTRY.collect(), *API_REGISTRY.collect()]:
        if not family.name.startswith("newsflow_"):
            continue
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        names.update(family.name + suffix for suffix in suffixes.get(family.type, [""]))
    return names


def _recorded_names() -> set[str]:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
    rules_list = [rule for group in rules["groups"] for rule in group["rules"]]
    return {rule["record"] for rule in rules_list if "record" in rule}


@pytest.mark.parametrize(
    "args",
    [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts-test.yml"],
        ["check", "config", "prometheus.yml"],
    ],
    ids=" ".join,
)
def test_promtool_accepts_deploy(args: list[str]) -> None:
    """The rules and their unit tests are checked by Prometheus's own tool, not by eye."""
    result = subprocess.run(
        [_promtool(), *args], cwd=DEPLOY, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_accepts_the_alertmanager_config() -> None:
    """The routing file is checked by Alertmanager's own tool (a test also delivers through it:
    tests/integration/test_alertmanager.py)."""
    amtool = shutil.which("amtool")
    if amtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "CI must check deploy/alertmanager.yml with amtool (Debian package "
                "prometheus-alertmanager)"
            )
        pytest.skip("amtool not installed (apt-get install prometheus-alertmanager)")
    result = subprocess.run(
        [amtool, "check-config", "alertmanager.yml"],
        cwd=DEPLOY, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_only_use_exported_metrics() -> None:
    """A rule on a misspelt metric never fires: every name must be one newsflow exports."""
    text = (DEPLOY / "alerts.yml").read_text()
    used = set(METRIC_NAME.findall(text))
    assert used, "the rules should query newsflow metrics"
    assert used <= _exported_names() | _recorded_names()


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (DEPLOY / "grafana" / "dashboards" / "newsflow.json").read_text()
    )
    return loaded


def test_dashboard_is_valid_and_queries_only_exported_metrics() -> None:
    """Operators rely on the dashboard: each panel must query a metric that exists."""
    dashboard = _dashboard()
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]
    exported = _exported_names() | _recorded_names()
    for panel in panels:
        exprs = [target["expr"] for target in panel["targets"]]
        assert exprs, panel["title"]
        for expr in exprs:
            used = set(METRIC_NAME.findall(expr))
            assert used, (panel["title"], expr)
            assert used <= exported, (panel["title"], used - exported)
    titles = " ".join(panel["title"].lower() for panel in panels)
    for topic in (
        "throughput",
        "latency",
        "queue",
        "dead letters",
        "language",
        "duplicate",
        "currency",
        "entities",
        "stories",
    ):
        assert topic in titles, f"the dashboard lacks a {topic} panel"


def test_every_panel_follows_the_instance_variable() -> None:
    """Choosing instances narrows every panel to them: each metric selector carries the
    variable, which lists the newsflow targets Prometheus scrapes (workers, API, reconciler)."""
    dashboard = _dashboard()
    (variable,) = dashboard["templating"]["list"]
    assert variable["name"] == "instance"
    assert variable["query"]["query"] == 'label_values(up{job=~"newsflow-.*"}, instance)'
    assert variable["includeAll"] is True
    assert variable["allValue"] == ".*"
    selector = re.compile(r"\bnewsflow_[a-z0-9_]+(\{[^}]*\})?")
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            for found in selector.finditer(target["expr"]):
                assert 'instance=~"$instance"' in (found[1] or ""), (panel["title"], found[0])


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """A query Prometheus cannot parse is an empty panel: promtool parses each one (as a
    recording rule), with the variable as Grafana's "All" sends it."""
    exprs = [
        target["expr"].replace("$instance", ".*")
        for panel in _dashboard()["panels"]
        for target in panel.get("targets", [])
    ]
    rules = [{"record": f"newsflow:dashboard_{n}", "expr": expr} for n, expr in enumerate(exprs)]
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [_promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_api_has_a_row_of_its_own() -> None:
    """Requests, latency, server errors and refusals (401, 413, 429) of the HTTP API, under an
    API row, below the pipeline's panels."""
    panels = _dashboard()["panels"]
    rows = [panel for panel in panels if panel["type"] == "row"]
    assert [row["title"] for row in rows] == ["Pipeline", "API"]
    api_row = rows[1]["gridPos"]["y"]
    below = [p for p in panels if p["type"] != "row" and p["gridPos"]["y"] > api_row]
    above = [p for p in panels if p["type"] != "row" and p["gridPos"]["y"] < api_row]
    assert len(below) >= 4
    for panel in below:
        assert all("newsflow_http_" in target["expr"] for target in panel["targets"])
    for panel in above:
        assert not any("newsflow_http_" in target["expr"] for target in panel["targets"])
    exprs = " ".join(target["expr"] for panel in below for target in panel["targets"])
    for needed in ("newsflow_http_request_duration_seconds_bucket", '"5.."', "429"):
        assert needed in exprs


def test_grafana_provisioning_points_at_the_dashboard_and_prometheus() -> None:
    """Grafana in compose must come up with the datasource and dashboard already there."""
    provisioning = DEPLOY / "grafana" / "provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["uid"] == "prometheus"
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "newsflow.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert Path(DEPLOY / "grafana" / "dashboards" / "newsflow.json").is_file()


def test_every_variable_the_compose_file_reads_is_in_the_env_example() -> None:
    """An operator learns what the stack can be told from .env.example: each ``${VAR}`` of
    docker-compose.yml (ports, replicas, secrets, the watcher's uid) must be there."""
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", text))
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^(?:# )?([A-Z_][A-Z0-9_]*)=", example, flags=re.M))
    assert used, "the compose file should read variables"
    assert sorted(used - documented) == []

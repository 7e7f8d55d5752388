"""deploy/: Prometheus config and alert rules pass promtool (with rule unit tests), and the Grafana
dashboard is valid and only queries metrics newsflow really exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

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
    for family in REGISTRY.collect():
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


def test_alert_rules_only_use_exported_metrics() -> None:
    """A rule on a misspelt metric never fires: every name must be one newsflow exports."""
    text = (DEPLOY / "alerts.yml").read_text()
    used = set(METRIC_NAME.findall(text))
    assert used, "the rules should query newsflow metrics"
    assert used <= _exported_names() | _recorded_names()


def test_dashboard_is_valid_and_queries_only_exported_metrics() -> None:
    """Operators rely on the dashboard: each panel must query a metric that exists."""
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "newsflow.json").read_text())
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
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


def test_grafana_provisioning_points_at_the_dashboard_and_prometheus() -> None:
    """Grafana in compose must come up with the datasource and dashboard already there."""
    provisioning = DEPLOY / "grafana" / "provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["uid"] == "prometheus"
    assert source["datasources"][0]["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "newsflow.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert Path(DEPLOY / "grafana" / "dashboards" / "newsflow.json").is_file()

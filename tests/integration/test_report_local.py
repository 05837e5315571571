"""The report over the local stack: events posted through the real `/v1/events` (replays
included), the stream poller, the aggregate Lambda, moto's DynamoDB, then `perso report`
and `perso dev`'s `/reports/` reading the counters back.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import requests
from scipy import stats as sps

from edge.compiler import compile_file
from infra.cli import main
from infra.local._reports import LocalReports
from infra.local.devserver import running
from infra.local.discovery import LOCAL_CREDENTIALS, DevEndpoints, announce
from infra.local.stack import LocalBackend, start_local_backend
from infra.report import TableTarget, read_report
from lambdas.dal.cdn import S3Cdn
from lambdas.dal.counters import DynamoCounters
from lambdas.logic.publish import deploy_ruleset, publish_site
from lambdas.models.report import Report, VariantStats
from tests._report_seed import ROOT, Visitor, drain, post, publish_demo, simulate

SITE = "demo-shop"


@dataclasses.dataclass
class Seeded:
    stack: LocalBackend
    people: list[Visitor]
    target: TableTarget


def _skewed_landing(n_control: int, n_b: int) -> list[Visitor]:
    """Visitors of landing-split, declared 50/50, arriving 3:1: a broken split."""
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    out = []
    for index in range(n_control + n_b):
        variant = "control" if index < n_control else "landing-b"
        event = {
            "id": str(uuid.uuid4()), "type": "exposure", "ts": at,
            "experience": "landing-split", "variant": variant,
        }  # fmt: skip
        out.append(Visitor(str(uuid.uuid4()), [event], {"landing-split": variant}))
    return out


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    # Own table and bucket: moto's state is process-wide, and a long stream left in the
    # shared `perso-events` table would keep the next module's poller busy.
    name = f"perso-report-{uuid.uuid4().hex[:8]}"
    stack = start_local_backend(origin_ports=[8000], publish_interval=3600, table=name, bucket=name)
    try:
        publish_demo(stack)
        people = simulate(110, days=3, seed=11)
        # Given every visitor's batch sent twice (a browser retrying after a lost answer)
        post(stack, people, replay=True)
        post(stack, _skewed_landing(45, 15))
        drain(stack)
        target = TableTarget(
            table=stack.table,
            bucket=stack.bucket,
            endpoint_url=stack.endpoint_url,
            credentials=LOCAL_CREDENTIALS,
        )
        yield Seeded(stack, people, target)
    finally:
        stack.stop()


def _report(seeded: Seeded, **options: object) -> Report:
    return read_report(seeded.target, SITE, now=datetime.now(UTC), **options)  # type: ignore[arg-type]


def _variant(report: Report, experience: str, variant: str) -> VariantStats:
    found = next(e for e in report.experiences if e.id == experience)
    return next(v for v in found.variants if v.id == variant)


def test_posted_events_come_out_counted_once_each(seeded: Seeded) -> None:
    report = _report(seeded)
    for experience in ("cta-style", "evening-free-shipping"):
        spec = next(e for e in report.experiences if e.id == experience)
        for stats in spec.variants:
            mine = [p for p in seeded.people if p.assigned.get(experience) == stats.id]
            buyers = [p for p in mine if "purchase" in p.converted]
            # Then visitors, exposures, converting visitors, value and clicks are exact,
            # although every batch reached the API twice
            assert stats.visitors == len(mine)
            assert stats.exposures == sum(p.exposures[experience] for p in mine)
            purchase = stats.goals["purchase"]
            assert purchase.conversions == len(buyers)
            assert purchase.value == pytest.approx(sum(p.totals["purchase"] for p in buyers))
            assert stats.clicks == stats.clickers == sum(p.clicks.get(experience, 0) for p in mine)
    # And the holdout and its other side count their visitors once
    held = [p for p in seeded.people if p.holdout]
    assert report.holdout.holdout.visitors == len(held)
    landing = 60  # the skewed landing-split visitors below were shown personalization too
    assert report.holdout.personalized.visitors == len(seeded.people) - len(held) + landing
    held_buyers = sum("purchase" in p.converted for p in held)
    assert report.holdout.holdout.goals["purchase"].conversions == held_buyers


def test_the_value_statistics_are_welch_on_each_visitors_total(seeded: Seeded) -> None:
    report = _report(seeded, intervals="fixed_horizon")
    totals = {
        variant: np.array([
            p.totals.get("purchase", 0.0) for p in seeded.people
            if p.assigned.get("cta-style") == variant
        ])
        for variant in ("control", "accent")
    }  # fmt: skip
    accent = _variant(report, "cta-style", "accent").goals["purchase"]
    welch = sps.ttest_ind(totals["accent"], totals["control"], equal_var=False)
    assert accent.value_p_value == pytest.approx(welch.pvalue, rel=1e-6)
    assert accent.value_per_visitor == pytest.approx(totals["accent"].mean())


def test_breakdowns_follow_the_exposure_props(seeded: Seeded) -> None:
    report = _report(seeded)
    spec = next(e for e in report.experiences if e.id == "cta-style")
    by_device = {
        (r.value, r.variant): r.visitors for r in spec.breakdowns if r.dimension == "device"
    }
    for (device, variant), visitors in by_device.items():
        expected = sum(
            1 for p in seeded.people
            if p.assigned.get("cta-style") == variant and p.events[1]["props"]["device"] == device
        )  # fmt: skip
        assert visitors == expected
    assert sum(by_device.values()) == sum(v.visitors for v in spec.variants)


def test_a_skewed_split_is_caught(seeded: Seeded) -> None:
    report = _report(seeded)
    landing = next(e for e in report.experiences if e.id == "landing-split")
    assert landing.srm.observed == {"control": 45, "landing-b": 15}
    assert landing.srm.flagged and landing.srm.p_value == pytest.approx(
        sps.chisquare([45, 15]).pvalue, rel=1e-6
    )
    cta = next(e for e in report.experiences if e.id == "cta-style")
    assert not cta.srm.flagged


def test_the_publisher_records_the_live_weights_once(seeded: Seeded) -> None:
    stack = seeded.stack
    cdn = S3Cdn(stack.client("s3"), stack.bucket)
    counters = DynamoCounters(stack.client("dynamodb"), stack.table)
    now = datetime.now(UTC)
    publish_site(SITE, cdn=cdn, counters=counters, now=now)
    publish_site(SITE, cdn=cdn, counters=counters, now=now + timedelta(minutes=15))
    records = counters.weight_history(SITE, "cta-style")
    assert [dict(r.weights) for r in records] == [{"control": 0.5, "accent": 0.5}]
    assert records[0].at == int(now.timestamp())


# --- perso report -----------------------------------------------------------------------------


@pytest.fixture
def announced(seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "state"))
    stack = seeded.stack
    endpoints = DevEndpoints("http://127.0.0.1:1", stack.endpoint_url, stack.table, stack.bucket)
    with announce(endpoints):
        yield


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_perso_report_finds_perso_dev_and_prints_json(
    seeded: Seeded, announced: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["report", "--site", SITE, "--format", "json"], capsys)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["site"] == SITE and data["intervals"] == "sequential"
    cta = next(e for e in data["experiences"] if e["id"] == "cta-style")
    control, accent = cta["variants"]
    assert (control["id"], control["lift"], control["lift_ci"]) == ("control", None, None)
    # the first goal (click_cta: a track, never a conversion) leads; purchase is in goals
    assert accent["conversions"] == 0 and accent["goals"]["purchase"]["conversions"] > 0
    expected = sum(1 for p in seeded.people if p.assigned.get("cta-style") == "accent")
    assert accent["visitors"] == expected
    assert data["holdout"]["visitors"] == sum(p.holdout for p in seeded.people)


def test_perso_report_table_and_html(
    announced: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["report", "--site", SITE, "--experience", "cta-style"], capsys)
    assert code == 0
    assert "cta-style" in out and "sample ratio" in out and "global holdout" in out
    assert "evening-free-shipping" not in out
    page = tmp_path / "report.html"
    code, _, err = _run(["report", "--site", SITE, "--format", "html", "--out", str(page)], capsys)
    assert code == 0 and err.strip() == f"perso report: wrote {page}"
    html = page.read_text()
    # self-contained: charts inline, no script, nothing fetched from elsewhere
    assert html.count("<svg") >= 4 and "<script" not in html and "<link" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


@pytest.mark.parametrize(
    ("args", "sentence"),
    [
        (["--site", "nope"], "site 'nope' has no published ruleset"),
        (["--site", SITE, "--experience", "nope"], "experience 'nope' is not in the live ruleset"),
        (["--site", SITE, "--since", "2999-01-01"], "the start date 2999-01-01 is in the future"),
        (["--site", SITE, "--since", "yesterday"], "--since 'yesterday' is not a date"),
        (["--site", "Bad Site"], "is not a site id"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_code_2(
    announced: None, args: list[str], sentence: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["report", *args], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and sentence in err
    assert "Traceback" not in err


def test_without_perso_dev_the_command_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERSO_STATE_DIR", str(tmp_path / "nothing"))
    code, _, err = _run(["report", "--site", SITE], capsys)
    assert code == 2 and "no running `perso dev` was found" in err


def test_a_site_without_events_gets_an_empty_report_that_says_why(
    seeded: Seeded, announced: None, capsys: pytest.CaptureFixture[str]
) -> None:
    result = compile_file(ROOT / "examples" / "demo-shop.yaml")
    assert result.ruleset is not None
    quiet = dataclasses.replace(result.ruleset, site="quiet-shop")
    cdn = S3Cdn(seeded.stack.client("s3"), seeded.stack.bucket)
    deploy_ruleset(quiet, cdn=cdn, now=datetime.now(UTC))
    code, out, _ = _run(["report", "--site", "quiet-shop", "--format", "json"], capsys)
    data = json.loads(out)
    assert code == 0 and any("no events have been counted" in n for n in data["notes"])
    assert all(v["visitors"] == 0 for e in data["experiences"] for v in e["variants"])


def test_since_keeps_later_days_only(seeded: Seeded) -> None:
    today = datetime.now(UTC).date()
    report = _report(seeded, since=today)
    everything = _report(seeded)
    assert report.since == today.isoformat()
    cta_today = next(e for e in report.experiences if e.id == "cta-style")
    cta_all = next(e for e in everything.experiences if e.id == "cta-style")
    assert (
        0 < sum(v.visitors for v in cta_today.variants) < sum(v.visitors for v in cta_all.variants)
    )
    assert date.fromisoformat(cta_today.days[0].day) == today


# --- perso dev's /reports/ ----------------------------------------------------------------------


def test_perso_dev_serves_reports(seeded: Seeded, tmp_path: Path) -> None:
    with running(cdn_dir=tmp_path, compress_cache=None) as dev:
        dev.reports = LocalReports(seeded.target)
        index = requests.get(f"{dev.url}/reports/", timeout=30)
        assert index.status_code == 200 and f'href="/reports/{SITE}"' in index.text
        page = requests.get(f"{dev.url}/reports/{SITE}", timeout=60)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "cta-style" in page.text and "<svg" in page.text
        assert requests.get(f"{dev.url}/reports/nope", timeout=30).status_code == 404
        bad = requests.get(f"{dev.url}/reports/{SITE}?since=soon", timeout=30)
        assert bad.status_code == 400
        one = requests.get(f"{dev.url}/reports/{SITE}?experience=cta-style", timeout=60)
        assert one.status_code == 200 and 'id="x-evening-free-shipping"' not in one.text


def test_no_backend_no_reports(tmp_path: Path) -> None:
    with running(cdn_dir=tmp_path, compress_cache=None) as dev:
        answer = requests.get(f"{dev.url}/reports/", timeout=10)
    assert answer.status_code == 503 and "not started" in answer.json()["error"]

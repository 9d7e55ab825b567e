"""Plots (`run --plots`, PNG and SVG) and the self-contained HTML report."""
import base64
import copy
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from salvosim.engine.compile import compile_scenario
from salvosim.engine.constants import KILLED
from salvosim.engine.montecarlo import iter_blocks, run_scenario
from salvosim.engine.variants import load_scenario, scenario_from_data, variants_of
from salvosim.engine.views.plots import (
    STANDARD_PLOTS,
    assign_channels,
    leaker_histogram_figure,
    record_replication,
    save_figure,
)
from salvosim.engine.views.report import build_report
from tests import REPO_ROOT  # noqa: E402

ROOT = REPO_ROOT
TOWER22 = str(ROOT / "scenarios" / "tower22_drone.toml")
PNG = b"\x89PNG\r\n\x1a\n"


from tests.cli_kit import run_cli as _run  # noqa: E402


@pytest.fixture(scope="module")
def tower22_mixes():
    """Tower 22 with two mixes: its 2024 layout (one LIDS) and no defense at all."""
    scn = load_scenario(TOWER22)
    data = copy.deepcopy(scn.raw)
    data["variants"] = [{"name": "2024 layout"}, {"name": "no defense", "layout": "none"}]
    return scenario_from_data(data, TOWER22)


def test_run_plots_writes_the_standard_set(tmp_path, capsys, warm_jit):
    out = tmp_path / "plots"
    rc, text, err = _run(["run", TOWER22, "--reps", "30", "--threads", "1", "--quiet",
                          "--plots", str(out)], capsys)
    assert rc == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted(STANDARD_PLOTS)
    for name in STANDARD_PLOTS:
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 20_000, name
        assert f"wrote {out / name}" in text


def test_a_figure_is_svg_when_the_path_ends_in_svg(tmp_path, warm_jit):
    res = run_scenario(load_scenario(TOWER22), reps=20, seed=1, threads=1)
    path = save_figure(leaker_histogram_figure(res), tmp_path / "hist.svg")
    text = Path(path).read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    save_figure(leaker_histogram_figure(res), tmp_path / "hist.png")
    assert (tmp_path / "hist.png").read_bytes().startswith(PNG)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hist.png", "hist.svg"]


def test_the_timeline_replication_is_the_one_the_numba_engine_ran(warm_jit):
    scn = load_scenario(ROOT / "scenarios" / "al_asad_mixes.toml")
    big = variants_of(scn)[-1].scenario              # 2024 layout: many units and channels
    sc, labels = compile_scenario(big)
    out, holds = record_replication(sc, labels, seed=7, rep=3)
    [block] = list(iter_blocks(sc, 1, seed=7, threads=1, rep0=3))
    assert np.array_equal(out.fate, block.fate[0])
    assert np.array_equal(out.shots, block.shots[0])
    assert len(holds) == int(block.engagements[0].sum())
    assert sum(h["shots"] for h in holds) == int(block.shots[0].sum())
    assert sum(h["kill"] for h in holds) == int((block.fate[0] == KILLED).sum())
    assign_channels(holds, sc.un_channels)
    assert all(0 <= h["channel"] < sc.un_channels[h["unit"]] for h in holds)
    for h in holds:
        assert h["t_fire_s"] <= h["t_free_s"]


def test_channel_lanes_never_overlap():
    holds = [{"unit": 0, "t_fire_s": t0, "t_free_s": t1} for t0, t1 in
             [(0, 10), (1, 4), (4, 9), (9, 12), (10, 11), (2, 3)]]
    assign_channels(holds, [3])
    for k in range(3):
        lane = sorted((h["t_fire_s"], h["t_free_s"]) for h in holds if h["channel"] == k)
        assert all(a[1] <= b[0] for a, b in zip(lane, lane[1:]))


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.images, self.ids, self.tags = [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for key in ("src", "href", "data", "action", "poster"):
            if key in attrs:
                self.refs.append((tag, key, attrs[key]))
        if tag == "img":
            self.images.append(attrs["src"])
        if "id" in attrs:
            self.ids.append(attrs["id"])


@pytest.fixture(scope="module")
def report_html(tower22_mixes, warm_jit):
    return build_report(tower22_mixes, reps=40, threads=1, sweep_reps=10,
                        vary="raids.0.count=1,4")


def test_the_report_has_every_section(report_html):
    page = _Page()
    page.feed(report_html)
    assert {"summary", "map", "results", "comparison", "saturation", "assumptions"} <= set(page.ids)
    for title in ("Scenario", "Map", "Results", "Defense mixes", "Saturation", "Assumptions"):
        assert f">{title}</h2>" in report_html
    assert "Tower 22 one-way drone attack" in report_html
    assert "no defense" in report_html and "unpaired" in report_html


def test_the_report_is_self_contained(report_html):
    page = _Page()
    page.feed(report_html)
    for tag, key, value in page.refs:
        assert value.startswith("data:") or (key == "href" and value.startswith("#")), (tag, value)
    assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
    assert not re.search(r"url\(\s*['\"]?(?!data:)", report_html)
    assert "@import" not in report_html
    # maps of both mixes, impact map, histogram, expenditure, timeline, comparison, saturation
    assert len(page.images) == 8
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)


def test_the_report_lists_the_assumed_catalog_values_with_their_sources(report_html,
                                                                          tower22_mixes):
    section = report_html.split("id='assumptions'")[1]
    for raid in tower22_mixes.raids:
        for key in raid.threat.assumed:
            assert f"<td>{raid.threat.id}</td><td>{key}</td>" in section
        assert raid.threat.source.split(";")[0] in section
    assert "coyote_b2" in section and "kurfs" in section
    assert section.count("assumption</span>") >= 10
    # the scenario flies the small drones at 50 m instead of the catalog's assumed 100 m
    assert "set in the scenario for small drones from the east: 50" in section


def test_report_cli_writes_one_html_file(tmp_path, capsys, warm_jit):
    out = tmp_path / "r.html"
    rc, text, err = _run(["report", TOWER22, "-o", str(out), "--reps", "20", "--sweep-reps",
                          "5", "--threads", "1", "--vary", "raids.0.count=1,2"], capsys)
    assert rc == 0, err
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


@pytest.mark.parametrize("argv, says", [
    (["-o", "{tmp}/r.pdf"], "must end in .html"),
    (["-o", "{tmp}/missing/r.html"], "does not exist"),
    (["-o", "{tmp}/r.html", "--vary", "raids.0.count=0,1"], "value rejected"),
])
def test_report_cli_refuses_bad_options_and_writes_nothing(tmp_path, capsys, argv, says):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    rc, _, err = _run(["report", TOWER22, *argv], capsys)
    assert rc == 2 and says in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []

"""docs/metrics.md is written from the code and the framework files, never by hand."""

from __future__ import annotations

import subprocess
import sys

from pipeline.scoring import doc, metrics
from pipeline.scoring.framework import SHAPES, available_years, grade_rule_text, load_framework
from tests.conftest import ROOT


def test_committed_page_is_the_generated_one():
    committed = doc.DOC_PATH.read_text(encoding="utf-8")
    assert committed == doc.render(), "docs/metrics.md 已过时：运行 python -m pipeline docs"


def test_page_lists_every_metric_shape_and_year():
    text = doc.render()
    for name, m in metrics.METRICS.items():
        assert f"| {m.label} | `{name}` | {', '.join(m.inputs)} | {m.definition} |" in text
    for name, s in SHAPES.items():
        assert f"| `{name}` |" in text and s.definition in text
    for year in available_years():
        framework = load_framework(year)
        assert f"| {year} | {framework.deadline.isoformat()} | {framework.notice} |" in text
        assert f"等级：{grade_rule_text(framework.grades)}。" in text
        for i in framework.indicators:
            assert f"| {i.code} | {i.level1} | {i.level2} | {i.level3} | {i.max_score:g} |" in text


def test_page_follows_a_changed_framework(tmp_path):
    folder = tmp_path / "frameworks"
    folder.mkdir()
    (folder / "2030.toml").write_text(
        'year = 2030\ndeadline = 2031-06-30\n[grades]\n"优" = 95\n"良" = 85\n"中" = 70\n"差" = 0\n'
        '[[indicator]]\ncode = "X1"\nlevel1 = "投入"\nlevel2 = "人员"\nlevel3 = "在职人员控制率"\nmax = 40\n'
        'metric = "staff_control_rate"\nshape = "deduct_above"\nthreshold = 1.0\npoints_per_percent = 0.5\n'
        '[[indicator]]\ncode = "X2"\nlevel1 = "产出"\nlevel2 = "完成"\nlevel3 = "重点工作"\nmax = 60\nrule = "judged"\n',
        encoding="utf-8")
    text = doc.render(folder)
    assert "| X1 | 投入 | 人员 | 在职人员控制率 | 40 | `staff_control_rate` · `deduct_above`（threshold=1.0, points_per_percent=0.5） |" in text
    assert "等级：优≥95，良85至95，中70至85，差<70。" in text
    assert "| 2030 | 2031-06-30 |" in text


def test_docs_command_checks_the_page():
    done = subprocess.run([sys.executable, "-m", "pipeline", "docs", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

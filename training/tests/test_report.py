"""REPORT.md is rendered from its template and the committed metrics, byte for byte (needs numpy)."""
import json
import os
import shutil

import pytest

pytest.importorskip("numpy")
from training import report  # noqa: E402

REP = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "report")


def test_report_renders_the_committed_text(tmp_path):
    shutil.copy(os.path.join(REP, "ablation.json"), tmp_path)
    with open(os.path.join(REP, "metrics.json")) as f:
        report.write_report(str(tmp_path), json.load(f))
    with open(os.path.join(REP, "REPORT.md")) as a, open(tmp_path / "REPORT.md") as b:
        assert a.read() == b.read()

"""Shared fixtures. The tests import `faceless` as installed (the wheel in a
virtual environment, tools/test_python.sh), not from this source tree."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import faceless

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("FACELESS_TEST_DATA", REPO / "tests" / "data"))
GOLDEN = REPO / "tests" / "golden"


def shared(rel: str) -> Path:
    """../shared/datasets/REL beside the checkout, or skip saying why."""
    p = REPO.parent / "shared" / "datasets" / rel
    if not p.exists():
        pytest.skip(f"{p} is absent (tests that need ../shared/datasets skip without it)")
    return p


def cli() -> str:
    """The faceless CLI: FACELESS_CLI, else target/release/faceless."""
    c = os.environ.get("FACELESS_CLI") or str(REPO / "target" / "release" / "faceless")
    if not (os.path.isfile(c) or shutil.which(c)):
        pytest.fail(f"faceless CLI not found at {c} (cargo build --release, or set FACELESS_CLI)")
    return c


def cli_json(*paths) -> dict:
    """{path: JSON object} from `faceless analyze --json PATH...`."""
    proc = subprocess.run(
        [cli(), "analyze", "--json", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.strip()]
    return {l["image"]: l for l in lines}


@pytest.fixture(scope="session")
def pipeline():
    with faceless.Pipeline() as p:
        yield p

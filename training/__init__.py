"""Faceless face-attribute classifier: data preparation, training, calibration, ONNX export.

`training.data` is pure Python standard library (runs in CI without numpy/torch);
everything else needs the pinned venv in `training/requirements.txt`.
"""

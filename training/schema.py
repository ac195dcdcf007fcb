"""The classifier's interface as the SDK reads it (src/classify/manifest.rs): names, heads and label sets.

One place for the constants the export, the manifest and the training loop share, so they cannot drift.
Standard library only (data.py imports it).
"""
from __future__ import annotations

MODEL_NAME = "faceless-attributes"
INPUT_NAME = "input"
# In this order: the SDK checks the names and reads the outputs by position.
OUTPUTS = ["age_group_logits", "gender_logits", "ethnicity_logits", "age_years"]
# Loss/metric heads of the training loop, in output order.
HEADS = ["age_group", "gender", "ethnicity", "age"]
GENDER_LABELS = ["male", "female"]
ETHNICITY_LABELS = ["white", "black", "asian", "indian", "others"]
N_AGE_GROUPS = 12
OPSET = 17


def output_shapes(n: int):
    """The outputs' shapes for a batch of n: logits per class, then one age per face."""
    return [[n, N_AGE_GROUPS], [n, len(GENDER_LABELS)], [n, len(ETHNICITY_LABELS)], [n]]

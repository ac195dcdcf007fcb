"""The external check's scoring (tools/evaluate_external.py), standard library only."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tools"))
import evaluate_external as ee  # noqa: E402


def face(gender, age, box=(0, 0, 10, 10)):
    return {"gender": {"label": gender}, "age": age, "box": list(box)}


def test_bins_are_whole_years():
    assert ee.bin_range("20-29") == (20.0, 30.0)
    assert ee.bin_range("70+") == (70.0, float("inf"))


def test_largest_face_is_scored():
    small, big = face("male", 5, (0, 0, 5, 5)), face("female", 40, (0, 0, 50, 50))
    assert ee.largest_face([small, big]) is big
    assert ee.largest_face([]) is None


def test_rates_and_misses():
    labels = [{"filename": "a", "age": "20-29", "gender": "Female"},
              {"filename": "b", "age": "20-29", "gender": "Female"},
              {"filename": "c", "age": "70+", "gender": "Male"},
              {"filename": "d", "age": "70+", "gender": "Male"}]
    preds = {"a": face("female", 29.9), "b": face("male", 30.0), "c": face("male", 75), "d": None}
    r = ee.report(ee.score(labels, preds))
    assert r["overall"]["n"] == 4 and r["overall"]["faces_found"] == 3
    assert r["overall"]["gender_acc"] == 0.5          # the miss counts as wrong
    assert r["overall"]["age_in_bin"] == 0.5          # 29.9 in 20-29, 30.0 not, 75 in 70+
    assert r["female_called_male"] == 0.5 and r["male_called_female"] == 0.5
    table = ee.markdown(r)
    assert "| **all** | 4 | 3 | **50.0 %** | **50.0 %** | 30.0 |" in table
    assert "| 70+ | 2 | 1 | 50.0 % | 50.0 % | 75.0 |" in table


def test_model_card_block_is_replaced(tmp_path):
    card = tmp_path / "card.md"
    card.write_text(f"head\n{ee.BEGIN}\nold\n{ee.END}\ntail\n")
    ee.write_card(str(card), "new table")
    assert card.read_text() == f"head\n{ee.BEGIN}\nnew table\n{ee.END}\ntail\n"


def test_answers_by_confidence():
    labels = [{"filename": "a", "age": "3-9", "gender": "Female"},
              {"filename": "b", "age": "3-9", "gender": "Male"},
              {"filename": "c", "age": "30-39", "gender": "Male"},
              {"filename": "d", "age": "30-39", "gender": "Male"}]
    def said(gender, prob):
        f = face(gender, 30)
        f["gender"]["prob"] = prob
        return f
    preds = {"a": said("female", 0.95), "b": said("female", 0.6), "c": said("male", 0.8), "d": None}
    conf = ee.by_confidence(labels, preds, thresholds=[0.5, 0.9])
    assert conf["all"]["n"] == 4
    # at 0.5 three of four photos are answered (d has no face), two of them right
    assert conf["all"]["rows"][0] == {"threshold": 0.5, "answered": 0.75, "accuracy": 2 / 3}
    assert conf["0-19"]["rows"][1] == {"threshold": 0.9, "answered": 0.5, "accuracy": 1.0}
    assert conf["20+"]["rows"][1] == {"threshold": 0.9, "answered": 0.0, "accuracy": None}
    r = ee.report(ee.score(labels, preds))
    r["gender_by_confidence"] = conf
    assert "| 0.9 | 25.0 % answered, 100.0 % right | 50.0 % answered, 100.0 % right | 0.0 % answered, - right |" in ee.markdown(r)

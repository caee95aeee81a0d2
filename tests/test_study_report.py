"""The study report's parts on hand-made inputs: the TRIPOD-LLM checklist and config/study.yaml, the base
models' parameter count, the development vs evaluation table, errors by site. The report of a whole run:
tests/test_workflow.py."""
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from radonc_llm.study_report import in_sentence, safetensors_parameters, site_table, split_characteristics
from radonc_llm.tripod_llm import ITEMS, STUDY_KEYS, checklist, read_study, status

REPO = Path(__file__).parents[1]


def test_the_template_has_every_key_empty_and_every_key_answers_an_item():
    template = yaml.safe_load((REPO / "config/study.yaml").read_text())
    assert list(template) == list(STUDY_KEYS) and set(template.values()) == {""}
    assert read_study(REPO / "config/study.yaml") == dict.fromkeys(STUDY_KEYS, "")
    assert {item.study for item in ITEMS if item.study} == set(STUDY_KEYS)
    numbers = [item.number for item in ITEMS]
    assert len(numbers) == len(set(numbers)) == 49 and numbers[0] == "1" and numbers[-1] == "19g"
    assert all(sum(x is not None for x in (item.section, item.study, item.na)) == 1 for item in ITEMS)


def test_a_filled_key_answers_its_items_and_an_empty_one_stays_to_supply(tmp_path):
    study = tmp_path / "study.yaml"
    study.write_text("intended_use: Decision support for dosimetrists, every plan checked by a physician\n"
                     "funding: 2026\n")
    filled = read_study(study)
    assert filled["funding"] == "2026" and filled["ethics_approval"] == ""
    rows = {row["item"]: row["status"] for row in checklist(filled, graded=False)}
    assert rows["3b"] == rows["19d"] == "answered in [Study information](#study-information) (`intended_use`)"
    assert rows["14a"].startswith("answered") and rows["13"] == "**to supply**: `ethics_approval` in config/study.yaml"
    assert rows["5a"] == "answered in [Data](#data)" and rows["10"].startswith("not applicable: no task")
    assert rows["7b"].startswith("not applicable yet: grading pending")
    graded = {row["item"]: row["status"] for row in checklist(filled, graded=True)}
    assert graded["7b"] == "**to supply**: `raters` in config/study.yaml"
    assert graded["6g"] == "answered in [Clinicians' grades](#clinicians-grades)"
    raters = next(item for item in ITEMS if item.number == "7b")
    assert status(raters, {"raters": "Two radiation oncologists, 8 and 15 years"}, graded=True).startswith("answered")


@pytest.mark.parametrize("text, message", [
    ("ethics: approved\n", "study.yaml: unknown key 'ethics'; the keys are background, "),
    ("funding: [a, b]\n", "study.yaml: key 'funding' must be text, found list"),
    ("- funding\n", "study.yaml: expected one key per line (key: text), found list"),
])
def test_study_yaml_mistakes_are_named(tmp_path, text, message):
    study = tmp_path / "study.yaml"
    study.write_text(text)
    with pytest.raises(ValueError, match="^" + re.escape(str(tmp_path / message))):
        read_study(study)


def test_parameters_are_counted_from_the_safetensors_header(tmp_path):
    from safetensors.numpy import save_file
    save_file({"embed": np.zeros((7, 3), np.float32), "norm": np.ones(5, np.float16),
               "layer.weight": np.zeros((2, 2, 2), np.float32)}, tmp_path / "model.safetensors",
              metadata={"format": "pt"})
    assert safetensors_parameters(tmp_path / "model.safetensors") == 7 * 3 + 5 + 8


def test_development_and_evaluation_cases_compared():
    cases = pd.DataFrame({"case_id": ["a", "b", "c", "d"], "age": [50.0, 70.0, 60.0, 80.0],
                          "sex": ["male", "female", "male", "male"], "intent": ["curative"] * 3 + ["palliative"],
                          "icd10": ["C61", "C50.9", "C61", None], "total_dose_gy": [70.0, 50.0, 60.0, 8.0],
                          "n_fractions": [28, 25, 20, 1]})
    ids = {("regimen", "train"): pd.Series(["a", "b"]), ("regimen", "eval"): pd.Series(["c", "d"]),
           ("modality", "train"): pd.Series(["a"]),
           ("modality", "eval"): pd.Series(["d"])}
    table, sites = split_characteristics(cases, ids)
    assert table.to_dict("records") == [
        {"task": "regimen", "split": "train", "cases": 2, "age mean (SD)": "60.0 (14.1)", "male %": 50.0,
         "curative %": 100.0},
        {"task": "regimen", "split": "eval", "cases": 2, "age mean (SD)": "70.0 (14.1)", "male %": 100.0,
         "curative %": 50.0},
        {"task": "modality", "split": "train", "cases": 1, "age mean (SD)": "50.0", "male %": 100.0,
         "curative %": 100.0},
        {"task": "modality", "split": "eval", "cases": 1, "age mean (SD)": "80.0", "male %": 100.0,
         "curative %": 0.0}]
    shares = sites.set_index("site")
    assert shares.loc["Malignant: male genital organs"].tolist() == [50.0, 50.0]
    assert shares.loc["Malignant: breast"].tolist() == [50.0, 0.0]
    assert shares.loc["no ICD-10 code"].tolist() == [0.0, 50.0]


def test_errors_by_site_show_the_primary_comparisons_predictors():
    paired = pd.DataFrame({"family": ["primary", "secondary"], "task": ["modality"] * 2,
                           "a": ["m finetuned (T=0.2)"] * 2, "b": ["m retrieved (T=0.1)", "majority baseline"]})
    by_group = pd.DataFrame({
        "predictor": ["m finetuned (T=0.2)", "m retrieved (T=0.1)", "majority baseline", "m finetuned (T=0.2)",
                      "m retrieved (T=0.1)", "m finetuned (T=0.2)"],
        "task": ["modality"] * 6, "grouping": ["site"] * 5 + ["intent"],
        "group": ["breast", "breast", "breast", "prostate", "prostate", "curative"], "n": [3, 3, 3, 9, 9, 12],
        "headline": [2 / 3, 0.0, 1.0, 1 / 9, 0.5, 0.4]})
    table = site_table(by_group, paired, "modality")
    assert table.columns.tolist() == ["site", "eval cases", "m finetuned (T=0.2)", "m retrieved (T=0.1)"]
    assert table.values.tolist() == [["prostate", 9, 0.111, 0.5], ["breast", 3, 0.667, 0.0]]


def test_task_titles_inside_a_sentence():
    assert [in_sentence(t) for t in ("Treatment regimen", "ICD-10 code")] == ["treatment regimen", "ICD-10 code"]

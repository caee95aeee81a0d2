"""The per-site, per-intent and per-fractionation breakdown on hand-made cases."""
import pandas as pd

from radonc_llm.breakdown import by_group, case_groups, top_confusions

CASES = pd.DataFrame({
    "case_id": ["a", "b", "c", "d", "e"],
    "icd10": ["C50.911", "C50.412", "C61", None, "C34.90"],
    "intent": ["curative", "curative", "curative", "palliative", "curative"],
    "total_dose_gy": [40.05, 26.0, 78.0, 8.0, 54.0], "n_fractions": [15, 5, 39, 1, 3]})


def test_case_groups_site_intent_and_fractionation_class():
    g = case_groups(CASES).set_index("case_id")
    assert g.loc["a", "site"] == "Malignant: breast" and g.loc["c", "site"] == "Malignant: male genital organs"
    assert g.loc["d", "site"] == "no ICD-10 code" and g.loc["e", "site"].startswith("Malignant: respiratory")
    assert g["fractionation class"].tolist() == ["hypofractionated", "SBRT/SRS", "conventional", "single fraction",
                                                 "SBRT/SRS"]


def test_mean_score_per_group_and_top_confusions():
    scored = pd.DataFrame({"case_id": list("abcde"), "truth": ["proton", "photon", "photon", "photon", "photon"],
                           "predicted": ["photon", "photon", "proton", "photon", "electron"],
                           "score": [0.0, 1.0, 0.0, 1.0, 0.0]})
    table = by_group({("m", "modality"): scored}, case_groups(CASES))
    site = table[table["grouping"] == "site"].set_index("group")
    assert site.loc["Malignant: breast", "n"] == 2 and site.loc["Malignant: breast", "headline"] == 0.5
    intent = table[table["grouping"] == "intent"].set_index("group")
    assert intent.loc["curative", "headline"] == 0.25 and intent.loc["palliative", "headline"] == 1.0
    confusions = top_confusions({("m", "modality"): scored}, case_groups(CASES))
    assert sorted(zip(confusions["site"], confusions["truth"], confusions["predicted"])) == [
        ("Malignant: breast", "proton", "photon"), ("Malignant: male genital organs", "photon", "proton"),
        ("Malignant: respiratory and intrathoracic organs", "photon", "electron")]

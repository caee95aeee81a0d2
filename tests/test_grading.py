"""The grading round trip: blinded sheets -> hand-filled sheets -> validation, flags, adjudication,
distributions and agreement."""
import numpy as np
import pandas as pd
import pytest

from radonc_llm.grading import (SHEET_COLUMNS, GradingError, agreement, distribution, make_sheets, read_adjudication,
                                read_graded, read_graded_sheets, result_tables, unblind)


PROXY = {"llama": [1, 2, 2, 3, 1, 5], "mistral": [1, 2, 2, 2, 1, None]}


def items(n=6):
    rows = []
    for model in ("llama", "mistral"):
        for i in range(n):
            rows.append({"case_id": f"P{i:03d}", "arm": "finetuned", "model": model, "variant": "finetuned",
                         "temperature": 0.3, "proxy_grade": PROXY[model][i], "diagnosis": f"diagnosis {i}",
                         "physician_regimen": f"{20 + i} Gy/5 fx",
                         "generated_regimen": f"{model} says {20 + i} Gy/5 fx"})
    return pd.DataFrame(rows)


@pytest.fixture
def exported(tmp_path):
    sheets, key = make_sheets(items(), ["ann", "bob"], seed=3)
    for grader, sheet in sheets.items():
        sheet.to_csv(tmp_path / f"blank_{grader}.csv", index=False)
    return sheets, key


def fill(sheet, key, grades_by_model, path):
    """Grade each row by its (hidden) model's list of grades, in case order."""
    graded = sheet.merge(key, on="row_id")
    graded["grade"] = [grades_by_model[m][int(c[1:])] for m, c in zip(graded["model"], graded["case_id"])]
    graded[SHEET_COLUMNS].to_csv(path, index=False)
    return path


def test_sheets_are_blinded_and_ordered_per_grader(exported):
    sheets, key = exported
    ann, bob = sheets["ann"], sheets["bob"]
    assert list(ann.columns) == SHEET_COLUMNS and set(ann["grade"]) == {""}
    assert sorted(ann["row_id"]) == sorted(bob["row_id"]) == sorted(key["row_id"]) and len(key) == 12
    assert list(ann["row_id"]) != list(bob["row_id"])  # each grader an order of their own
    assert "model" not in ann.columns and not ann["generated_regimen"].isna().any()
    again, key_again = make_sheets(items(), ["ann", "bob"], seed=3)
    assert again["ann"].equals(ann) and key_again.equals(key)  # seeded


def test_round_trip_flags_adjudication_distribution_and_kappa(exported, tmp_path):
    sheets, key = exported
    ann = fill(sheets["ann"], key, {"llama": [1, 1, 2, 3, 1, 5], "mistral": [1, 2, 2, 2, 1, 1]}, tmp_path / "ann.csv")
    bob = fill(sheets["bob"], key, {"llama": [1, 2, 2, 1, 1, 5], "mistral": [1, 2, 4, 2, 1, 1]}, tmp_path / "bob.csv")
    grades = {"ann": read_graded(ann, sheets["ann"]), "bob": read_graded(bob, sheets["bob"])}
    table = unblind(key, grades, {})
    flagged = table[table["flagged"]].sort_values("model")
    assert list(zip(flagged["model"], flagged["case_id"])) == [("llama", "P003"), ("mistral", "P002")]  # 3 vs 1, 2 vs 4
    adjudication = tmp_path / "adjudication.csv"
    pd.DataFrame({"row_id": flagged["row_id"], "adjudicated_grade": ["2", ""]}).to_csv(adjudication, index=False)
    table = unblind(key, grades, read_adjudication(adjudication))
    llama = table[table["model"] == "llama"].sort_values("case_id")
    assert list(llama["ann_final"]) == [1, 1, 2, 2, 1, 5] and list(llama["bob_final"]) == [1, 2, 2, 2, 1, 5]
    dist = distribution(table, ["ann", "bob"]).set_index(["model", "grader"])
    assert dist.loc[("llama", "ann"), "grade_1"] == 3 and dist.loc[("llama", "bob"), "grade_1"] == 2
    assert dist.loc[("llama", "average"), "grade_1"] == 2.5
    assert dist.loc[("llama", "average"), "grade_1_share"] == pytest.approx(2.5 / 6)
    assert dist.loc[("llama", "average"), "grade_1_2_share"] == pytest.approx(5 / 6)  # ann 5 of 6, bob 5 of 6
    # raw agreement, by hand: 9 of 12 equal; 10 of 12 within one point
    result = agreement(table["ann"], table["bob"])
    assert (result["exact"], result["within_one"]) == (pytest.approx(9 / 12), pytest.approx(10 / 12))


def test_result_tables_carry_the_proxy_grade_and_list_the_rows_to_adjudicate_with_their_text(exported, tmp_path):
    sheets, key = exported
    fill(sheets["ann"], key, {"llama": [1, 1, 2, 3, 1, 5], "mistral": [1, 2, 2, 2, 1, 1]}, tmp_path / "ann.csv")
    fill(sheets["bob"], key, {"llama": [1, 2, 2, 1, 1, 5], "mistral": [1, 2, 4, 2, 1, 1]}, tmp_path / "bob.csv")
    blank, grades, _ = read_graded_sheets(["ann", "bob"], [tmp_path / "blank_ann.csv", tmp_path / "blank_bob.csv"],
                                       [tmp_path / "ann.csv", tmp_path / "bob.csv"])
    tables = result_tables(key, grades, "", blank, ["ann", "bob"])  # the proxy grades come with the key
    table = tables["grades"].set_index(["model", "case_id"])
    assert table.loc[("llama", "P003"), "proxy_grade"] == 3 and pd.isna(table.loc[("mistral", "P005"), "proxy_grade"])
    adjudicate = tables["adjudication"].merge(key, on="row_id").sort_values("model")
    assert list(adjudicate["diagnosis"]) == ["diagnosis 3", "diagnosis 2"]  # the sheet's text, not the key's
    assert list(adjudicate["grade_ann"]) == [3, 2] and list(adjudicate["grade_bob"]) == [1, 4]
    agreement_ = tables["agreement"].set_index(["model", "compared"])
    # proxy vs ann, all models: the proxy is known for 11 rows and differs from ann's grade only for llama P001 (2 vs 1)
    assert agreement_.loc[("all", "proxy vs ann (final)"), "n"] == 11
    assert agreement_.loc[("all", "proxy vs ann (final)"), "exact"] == pytest.approx(10 / 11)
    confusion = tables["proxy_confusion"]
    assert confusion["n"].sum() == 22 and set(confusion["grader"]) == {"ann", "bob"}


def test_quadratic_kappa_and_gwet_ac2_by_hand():
    # two raters, grades 1-2 only: observed disagreement 2 of 4 (each 1 point), expected with
    # marginals (1: 1/2, 2: 1/2 each) the same -> kappa = 0, whatever the weights
    assert agreement([1, 1, 2, 2], [1, 2, 1, 2])["quadratic_kappa"] == pytest.approx(0.0)
    assert agreement([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])["quadratic_kappa"] == pytest.approx(1.0)
    # one point apart on one of four, quadratic weights (i - j)^2: observed mean 1/4; expected from the
    # marginals a (1: 1/2, 3: 1/2), b (1: 1/2, 3: 1/4, 4: 1/4): 1/2 (1/4 * 4 + 1/4 * 9) + 1/2 (1/2 * 4 + 1/4 * 1)
    # = 2.75 -> kappa = 1 - 0.25 / 2.75 = 10/11
    found = agreement([1, 1, 3, 3], [1, 1, 3, 4], resamples=500, seed=1)
    assert found["quadratic_kappa"] == pytest.approx(10 / 11)
    # AC2 (q = 5, weights 1 - (i - j)^2 / 16): pa = 3/4 + 1/4 * 15/16 = 63/64; pi = (1/2, 0, 3/8, 1/8, 0),
    # sum pi (1 - pi) = 19/32; the weights sum to 25 - 100/16 = 75/4, so pe = 75/4 / 20 * 19/32 = 285/512;
    # AC2 = (504 - 285) / (512 - 285) = 219/227
    assert found["gwet_ac2"] == pytest.approx(219 / 227)
    assert found["gwet_ac2_ci_low"] <= found["gwet_ac2"] <= found["gwet_ac2_ci_high"] <= 1
    from sklearn.metrics import cohen_kappa_score
    rng = np.random.default_rng(4)
    a, b = rng.integers(1, 6, 60), rng.integers(1, 6, 60)
    assert agreement(a, b)["quadratic_kappa"] == pytest.approx(cohen_kappa_score(a, b, weights="quadratic"))


def test_gwet_ac2_on_gwets_published_example():
    """Gwet (2014), Handbook of Inter-Rater Reliability: two abstractors, 100 pregnancies, three ordered
    categories (13 0 0 / 0 20 7 / 0 4 56); with quadratic weights pa = 0.9725, pe = 0.53985, AC2 = 0.94024."""
    from radonc_llm.stats import agreement_with_ci
    counts = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
    a = [i for i in range(3) for j in range(3) for _ in range(counts[i][j])]
    b = [j for i in range(3) for j in range(3) for _ in range(counts[i][j])]
    found = agreement_with_ci(a, b, [0, 1, 2], resamples=2000, seed=1, confidence=0.95)
    assert round(found["gwet_ac2"], 5) == 0.94024
    assert found["gwet_ac2_ci_low"] == pytest.approx(0.905, abs=0.01)  # the book's 0.90468-0.97579 (analytic)
    assert found["gwet_ac2_ci_high"] == pytest.approx(0.976, abs=0.01)


def test_acceptable_and_unsafe_shares_have_exact_intervals():
    from scipy.stats import binomtest
    table = pd.DataFrame({"model": "m", "variant": "finetuned", "ann_final": [1, 2, 2, 4, 5, 3, 1, 1],
                          "bob_final": [1, 1, 3, 4, 4, 4, 1, 2]})
    dist = distribution(table, ["ann", "bob"]).set_index("grader")
    assert dist.loc["ann", "grade_1_2_share"] == 5 / 8 and dist.loc["ann", "unsafe_share"] == 2 / 8
    exact = binomtest(5, 8).proportion_ci(0.95, method="exact")
    assert (dist.loc["ann", "grade_1_2_ci_low"], dist.loc["ann", "grade_1_2_ci_high"]) == (
        pytest.approx(exact.low), pytest.approx(exact.high))
    assert dist.loc["bob", "unsafe_share"] == 3 / 8 and dist.loc["average", "unsafe_share"] == 2.5 / 8
    assert dist.loc["ann", "unsafe_ci_low"] < 2 / 8 < dist.loc["average", "unsafe_ci_high"]


def test_arms_on_the_same_cases_are_compared_by_mcnemar():
    from radonc_llm.grading import arm_comparisons
    rows = []
    for model, grades in (("llama", [1, 1, 1, 4, 2, 1]), ("mistral", [3, 3, 1, 4, 5, 3])):
        rows += [{"case_id": f"P{i}", "model": model, "variant": "finetuned", "ann_final": g, "bob_final": g}
                 for i, g in enumerate(grades)]
    found = arm_comparisons(pd.DataFrame(rows), ["ann", "bob"]).set_index("outcome")
    # acceptable: llama on 5 of 6, mistral on 1; llama alone on 4 cases, mistral alone on none: p = 2 / 2^4
    assert found.loc["acceptable", ["n", "share_a", "share_b", "a_only", "b_only"]].tolist() == [6, 5 / 6, 1 / 6, 4, 0]
    assert found.loc["acceptable", "p_value"] == pytest.approx(0.125)
    assert found.loc["unsafe", ["a_only", "b_only", "p_value"]].tolist() == [0, 1, 1.0]


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.assign(grade=["6"] + list(s["grade"][1:])), "column 'grade' must be 1-5, found 6"),
    (lambda s: s.assign(grade=[""] + list(s["grade"][1:])), "column 'grade' must be 1-5, found nothing"),
    (lambda s: s.iloc[1:], "1 exported row(s) missing"),
    (lambda s: s.assign(physician_regimen=["50 Gy/25 fx"] + list(s["physician_regimen"][1:])),
     "column 'physician_regimen' was edited"),
    (lambda s: s.drop(columns=["comment"]), "missing column(s) comment"),
    (lambda s: pd.concat([s, s.iloc[[0]]]), "appears more than once"),
])
def test_bad_graded_sheets_are_refused_naming_file_and_row(exported, tmp_path, edit, message):
    sheets, key = exported
    good = sheets["ann"].assign(grade="2")
    path = tmp_path / "ann.csv"
    edit(good).to_csv(path, index=False)
    with pytest.raises(GradingError) as error:
        read_graded(path, sheets["ann"])
    assert str(path) in str(error.value) and message in str(error.value)
    if "line" in str(error.value):
        assert "line 2 (row R" in str(error.value)


def test_the_workbook_a_grader_gets_and_fills_in_excel(exported, tmp_path):
    from openpyxl import load_workbook

    from radonc_llm.grading import read_sheet, write_sheet
    sheets, key = exported
    sheet = sheets["ann"].assign(diagnosis=lambda t: t["diagnosis"] + ", carcinome épidermoïde\nT2 N0")
    write_sheet(sheet, "ann", tmp_path / "ann.xlsx")
    first = (tmp_path / "ann.xlsx").read_bytes()
    write_sheet(sheet, "ann", tmp_path / "ann.xlsx")
    assert (tmp_path / "ann.xlsx").read_bytes() == first  # the same bytes on a re-run
    book = load_workbook(tmp_path / "ann.xlsx")
    assert book.sheetnames == ["Instructions", "Grader", "Cases"] and book.active.title == "Cases"
    assert "5  Absolutely not acceptable" in [c.value for c in book["Instructions"]["A"]]
    cases = book["Cases"]
    assert [c.value for c in cases[1]] == ["Row", "Diagnosis", "Physician's regimen", "Regimen to grade",
                                           "Grade (1-5)", "Comment"]
    assert cases.freeze_panes == "A2" and cases.protection.sheet and cases.column_dimensions["B"].width == 60
    validation = cases.data_validations.dataValidation[0]
    assert validation.type == "list" and validation.formula1 == '"1,2,3,4,5"' and str(validation.sqref) == "E2:E13"
    assert cases["B2"].protection.locked and cases["B2"].alignment.wrap_text  # the case text: locked, wrapped
    assert not cases["E2"].protection.locked and not cases["F2"].protection.locked  # grade and comment open
    # the grader picks grades from the drop-down (numbers in Excel), comments with an accent, fills the Grader sheet
    for row in range(2, 14):
        cases.cell(row=row, column=5, value=1 + row % 5)
    cases["F3"] = "dose trop élevée"
    book["Grader"]["B2"], book["Grader"]["B3"] = "radiation oncology resident", 3
    book.save(tmp_path / "returned.xlsx")
    graded = read_graded(tmp_path / "returned.xlsx", read_sheet(tmp_path / "ann.xlsx")[0])
    assert graded["grade"].tolist() == [1 + row % 5 for row in range(2, 14)]
    assert graded["comment"].tolist()[1] == "dose trop élevée"
    assert read_sheet(tmp_path / "returned.xlsx")[1]["years of practice"] == "3"
    # a workbook saved with a .csv name is still read as the workbook it is
    (tmp_path / "returned.csv").write_bytes((tmp_path / "returned.xlsx").read_bytes())
    assert read_graded(tmp_path / "returned.csv", sheet)["grade"].tolist() == graded["grade"].tolist()
    book["Cases"]["D4"] = "edited"
    book.save(tmp_path / "edited.xlsx")
    with pytest.raises(GradingError, match=r"edited.xlsx: line 4 \(row R\d+\): column 'generated_regimen' was edited"):
        read_graded(tmp_path / "edited.xlsx", sheet)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(GradingError, match=r"broken.xlsx: not an Excel workbook \(.xlsx\) that can be read"):
        read_graded(tmp_path / "broken.xlsx", sheet)


@pytest.mark.parametrize("encoding, delimiter, text", [
    ("utf-8-sig", ",", ", carcinome épidermoïde ≥ T2\nN0"), ("cp1252", ";", ", carcinome épidermoïde ≥ T2\nN0"),
    ("cp1252", ",", " ≥ T2 → N0")])  # nothing but '?' for what Windows-1252 lacks: the file is ASCII, read as UTF-8
def test_a_csv_sheet_saved_by_excel_is_read_and_an_edited_case_still_refused(exported, tmp_path, encoding, delimiter,
                                                                             text):
    import csv
    sheets, key = exported
    sheet = sheets["ann"].assign(diagnosis=lambda t: t["diagnosis"] + text)
    graded = sheet.assign(grade=[str(1 + i % 5) for i in range(len(sheet))])
    # as Excel saves it: its encoding (Windows-1252 writes '?' for what it cannot hold), CRLF, every field quoted
    graded.to_csv(tmp_path / "ann.csv", index=False, encoding=encoding, errors="replace", sep=delimiter,
                  lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    assert read_graded(tmp_path / "ann.csv", sheet)["grade"].tolist() == [1 + i % 5 for i in range(len(sheet))]
    edited = graded.copy()
    edited.loc[5, "physician_regimen"] = "60 Gy / 30 fx"
    edited.to_csv(tmp_path / "edited.csv", index=False, encoding=encoding, errors="replace", sep=delimiter,
                  lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    with pytest.raises(GradingError, match=rf"edited.csv: line 7 \(row {edited.loc[5, 'row_id']}\): column "
                                           r"'physician_regimen' was edited"):
        read_graded(tmp_path / "edited.csv", sheet)


def test_the_arms_are_the_paired_tests_choices():
    from radonc_llm.grading import arm_predictors
    paired = pd.DataFrame({"task": ["regimen"] * 6 + ["modality"], "a": [
        "m finetuned (T=0.9)", "m finetuned (T=0.9)", "m finetuned (T=0.9)", "m finetuned (T=0.9)",
        "m finetuned (T=0.9)", "m vanilla (T=1.0)", "m finetuned (T=0.2)"], "b": [
        "m vanilla (T=1.0)", "m retrieved (T=0.3)", "m retrieved (T=0.3) (all train pairs)",
        "nearest-neighbour baseline", "n finetuned (T=0.6)", "n vanilla (T=0.4)", "m fewshot (T=0.1)"]})
    arms = arm_predictors(paired, ["finetuned", "best_prompting", "vanilla", "best_baseline", "physician"])
    assert [(a["arm"], a["model"], a["variant"], a["temperature"]) for a in arms] == [
        ("finetuned", "m", "finetuned", 0.9), ("best_prompting", "m", "retrieved", 0.3),
        ("vanilla", "m", "vanilla", 1.0), ("best_baseline", "nearest-neighbour", "baseline", None),
        ("physician", "physician", "control", None)]
    assert [a["arm"] for a in arm_predictors(paired, ["finetuned"])] == ["finetuned"]


def test_the_sample_keeps_each_sites_share_and_is_seeded():
    from radonc_llm.grading import stratified_sample
    groups = pd.DataFrame({"case_id": [f"P{i:02d}" for i in range(40)],
                           "site": ["breast"] * 20 + ["prostate"] * 12 + ["lung"] * 6 + ["skin"] * 2})
    sample = stratified_sample(groups, 10, seed=5)
    sites = groups.set_index("case_id").loc[sample, "site"].value_counts().to_dict()
    # quotas 5, 3, 1.5, 0.5: floors 5 + 3 + 1 + 0 = 9, the largest remainder (lung's 0.5 before skin's, by name)
    assert sites == {"breast": 5, "prostate": 3, "lung": 2} and len(set(sample)) == 10
    assert stratified_sample(groups, 10, seed=5) == sample != stratified_sample(groups, 10, seed=6)
    assert stratified_sample(groups, None, seed=5) == stratified_sample(groups, 99, seed=5) == sorted(groups["case_id"])


def test_the_physicians_own_regimen_is_a_blinded_control_arm():
    from radonc_llm.grading import sheet_items
    pairs = pd.DataFrame({"case_id": ["P1", "P2", "P3"], "diagnosis": ["d1", "d2", "d3"],
                          "answer": ["60 Gy/30 fx", "20 Gy/5 fx", "8 Gy/1 fx"]})
    scored = pd.DataFrame({"case_id": ["P3", "P1", "P2"], "predicted": ["8 Gy/1 fx", "66 Gy/\x0333\rfx", None],
                           "proxy_grade": [1.0, 2.0, np.nan]})
    arms = [{"arm": "finetuned", "model": "m", "variant": "finetuned", "temperature": 0.9},
            {"arm": "physician", "model": "physician", "variant": "control", "temperature": None}]
    loaded = []
    found = sheet_items(arms, lambda *arm: loaded.append(arm) or scored, pairs, ["P1", "P2"])
    assert loaded == [("m", "finetuned", 0.9)]
    assert found[["arm", "case_id", "generated_regimen"]].values.tolist() == [
        ["finetuned", "P1", "66 Gy/33\nfx"], ["finetuned", "P2", ""],  # no answer: an empty regimen to grade
        ["physician", "P1", "60 Gy/30 fx"], ["physician", "P2", "20 Gy/5 fx"]]
    assert found["proxy_grade"].fillna(0).tolist() == [2.0, 0, 1.0, 1.0]
    sheets, key = make_sheets(found, ["ann", "bob"], seed=1)
    # the physician's regimen is not beside the rows (it would give the control away); the key knows the arms
    assert list(sheets["ann"].columns) == ["row_id", "diagnosis", "generated_regimen", "grade", "comment"]
    assert sorted(key["arm"]) == ["finetuned", "finetuned", "physician", "physician"]
    assert "arm" not in sheets["ann"] and "proxy_grade" not in sheets["ann"]

"""The grading round trip: blinded sheets -> hand-filled sheets -> validation, flags, adjudication,
distributions and agreement."""
import pandas as pd
import pytest

from radonc_llm.grading import (SHEET_COLUMNS, GradingError, agreement, distribution, make_sheets, read_adjudication,
                                read_graded, read_graded_sheets, result_tables, unblind)


def items(n=6):
    rows = []
    for model in ("llama", "mistral"):
        for i in range(n):
            rows.append({"case_id": f"P{i:03d}", "model": model, "variant": "finetuned", "temperature": 0.3,
                         "diagnosis": f"diagnosis {i}", "physician_regimen": f"{20 + i} Gy/5 fx",
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


def test_result_tables_join_the_proxy_grade_and_list_the_rows_to_adjudicate_with_their_text(exported, tmp_path):
    sheets, key = exported
    fill(sheets["ann"], key, {"llama": [1, 1, 2, 3, 1, 5], "mistral": [1, 2, 2, 2, 1, 1]}, tmp_path / "ann.csv")
    fill(sheets["bob"], key, {"llama": [1, 2, 2, 1, 1, 5], "mistral": [1, 2, 4, 2, 1, 1]}, tmp_path / "bob.csv")
    blank, grades = read_graded_sheets(["ann", "bob"], [tmp_path / "blank_ann.csv", tmp_path / "blank_bob.csv"],
                                       [tmp_path / "ann.csv", tmp_path / "bob.csv"])
    proxy = {}
    for model, grades_ in (("llama", [1, 2, 2, 3, 1, 5]), ("mistral", [1, 2, 2, 2, 1, None])):
        path = tmp_path / f"{model}.parquet"
        pd.DataFrame({"case_id": [f"P{i:03d}" for i in range(6)], "proxy_grade": grades_}).to_parquet(path)
        proxy[model, "finetuned", 0.3] = path
    tables = result_tables(key, grades, "", proxy, blank, ["ann", "bob"])
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


def test_weighted_kappa_by_hand():
    # two raters, grades 1-2 only: observed disagreement 2 of 4 (each 1 point), expected with
    # marginals (1: 1/2, 2: 1/2 each) 1/2 -> kappa = 1 - (2/4) / (1/2) = 0
    assert agreement([1, 1, 2, 2], [1, 2, 1, 2])["weighted_kappa"] == pytest.approx(0.0)
    assert agreement([1, 2, 3, 4, 5], [1, 2, 3, 4, 5])["weighted_kappa"] == pytest.approx(1.0)
    # one point apart on one of four, linear weights |i - j|: observed mean disagreement 1/4;
    # expected from the marginals a (1: 1/2, 3: 1/2), b (1: 1/2, 3: 1/4, 4: 1/4):
    # 1/2 (1/4 * 2 + 1/4 * 3) + 1/2 (1/2 * 2 + 1/4 * 1) = 1.25 -> kappa = 1 - 0.25 / 1.25 = 0.8
    assert agreement([1, 1, 3, 3], [1, 1, 3, 4])["weighted_kappa"] == pytest.approx(0.8)


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

"""Task pairs and splits: sizes, disjointness, shared eval cases, determinism."""
import pandas as pd
import pytest

from radonc_llm.pairs import eval_count, eval_pool, split_pairs, task_table


def cohort(n=200):
    ids = [f"P{i:04d}" for i in range(n)]
    return pd.DataFrame({
        "case_id": ids, "diagnosis": [f"diagnosis {i}" for i in range(n)],
        "regimen": [f"primary, photon, {i}.0Gy, fractions:5" for i in range(n)],
        "icd10_status": ["valid" if i % 10 else "not ICD-10" for i in range(n)],
        "icd10": ["C61" if i % 10 else None for i in range(n)],
    })


def labels_for(cases, missing=()):
    return pd.DataFrame({"case_id": cases["case_id"],
                         "modality": [None if c in missing else "photon" for c in cases["case_id"]]})


def test_eval_count_from_count_or_fraction():
    assert eval_count(403, 7903) == 403
    assert eval_count(0.05, 7177) == 359
    with pytest.raises(ValueError, match="leaves no cases for training"):
        eval_count(100, 100)
    with pytest.raises(ValueError, match="leaves no cases for eval"):
        eval_count(0.001, 100)


def test_splits_are_disjoint_complete_and_sized():
    cases = cohort()
    table = task_table("regimen", cases)
    train, ev = split_pairs(table, eval_pool("regimen", cases), 40, 1, "What is the prescription for this:")
    assert len(ev) == 40 and len(train) == 160
    assert not set(train["case_id"]) & set(ev["case_id"])
    assert list(train.columns) == ["case_id", "prompt", "answer", "diagnosis"]
    row = ev.iloc[0]
    assert row["prompt"] == f"What is the prescription for this: {row['diagnosis']}"


def test_regimen_and_modality_share_eval_cases_even_with_unresolved_modality():
    cases = cohort()
    _, ev_reg = split_pairs(task_table("regimen", cases), eval_pool("regimen", cases), 40, 5, "Q:")
    missing = {ev_reg["case_id"].iloc[0]}
    table = task_table("modality", cases, labels_for(cases, missing))
    train_mod, ev_mod = split_pairs(table, eval_pool("modality", cases), 40, 5, "Q:")
    assert set(ev_mod["case_id"]) == set(ev_reg["case_id"]) - missing
    assert not missing & set(train_mod["case_id"])


def test_icd10_eval_drawn_from_valid_codes_only_and_seed_matters():
    cases = cohort()
    table = task_table("icd10", cases)
    assert len(table) == 180
    _, ev = split_pairs(table, eval_pool("icd10", cases), 0.1, 5, "Q:")
    assert len(ev) == 18 and set(ev["answer"]) == {"C61"}
    _, again = split_pairs(table, eval_pool("icd10", cases), 0.1, 5, "Q:")
    _, other = split_pairs(table, eval_pool("icd10", cases), 0.1, 6, "Q:")
    assert ev.equals(again) and set(other["case_id"]) != set(ev["case_id"])


def test_adding_cases_does_not_reshuffle_the_existing_eval_choice():
    small, big = cohort(200), cohort(220)
    _, ev_small = split_pairs(task_table("regimen", small), eval_pool("regimen", small), 0.2, 9, "Q:")
    _, ev_big = split_pairs(task_table("regimen", big), eval_pool("regimen", big), 0.2, 9, "Q:")
    # the seeded order is per case, so the larger cohort's eval set contains most of the smaller one's
    assert len(set(ev_small["case_id"]) & set(ev_big["case_id"])) >= 36


def test_selection_pairs_are_train_pairs_no_adapter_trains_on():
    from radonc_llm.finetune import held_out, selection_pairs, training_pairs
    pairs = pd.DataFrame({"case_id": [f"P{i:03d}" for i in range(40)], "prompt": "q", "answer": "a", "diagnosis": "d"})
    subset = {"max_train_pairs": 20, "val_fraction": 0.25, "seed": 3}
    trained, validation = training_pairs(pairs, subset)
    assert (len(trained), len(validation)) == (15, 5)
    pool = held_out(pairs, subset)  # the 20 outside the subset and the 5 of its validation slice
    assert len(pool) == 25 and not set(pool["case_id"]) & set(trained["case_id"])
    assert set(validation["case_id"]) <= set(pool["case_id"])
    selection = selection_pairs(pairs, subset, 10, seed=1)
    assert len(selection) == 10 and set(selection["case_id"]) <= set(pool["case_id"])
    assert selection.equals(selection_pairs(pairs, subset, 10, seed=1))  # seeded
    assert not selection.equals(selection_pairs(pairs, subset, 10, seed=2))
    every = {"max_train_pairs": None, "val_fraction": 0.25, "seed": 3}  # all pairs: only the validation slice
    assert set(held_out(pairs, every)["case_id"]) == set(training_pairs(pairs, every)[1]["case_id"])
    assert len(selection_pairs(pairs, every, None, seed=1)) == 2  # default: min(300, 5 % of 40)


def test_a_task_curation_emptied_names_the_step_and_columns():
    from radonc_llm.errors import UserError
    from radonc_llm.pairs import check_not_empty
    cases = cohort(20).assign(icd10_status="ICD-9", icd10=None)  # an export coded in ICD-9 throughout
    check_not_empty("regimen", task_table("regimen", cases))
    with pytest.raises(UserError, match=r"^task icd10 has no cases: curation dropped every case at step 6 \(valid "
                                        r"ICD-10 code; the diagnoses' columns icd_code and icd_scheme\)"):
        check_not_empty("icd10", task_table("icd10", cases))
    with pytest.raises(UserError, match=r"^task modality has no cases: .* step 5 \(modality standardised; the "
                                        r"plans' column modality"):
        check_not_empty("modality", task_table("modality", cases, labels_for(cases, missing=set(cases["case_id"]))))

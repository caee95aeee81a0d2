"""Training seeds (finetune.seeds): the seeds' adapters and tables/seeds.csv."""
import pandas as pd
import pytest

from radonc_llm.evaluation import seeds_table
from radonc_llm.plan import finetune_settings, training_seeds


def summary(model, headlines):
    return pd.DataFrame({"model": model, "variant": "finetuned", "task": "modality",
                         "temperature": [0.1, 0.5], "n": 40, "headline": headlines,
                         "ci_low": [h - 0.1 for h in headlines], "ci_high": [h + 0.1 for h in headlines]})


def test_each_seed_at_its_temperature_chosen_on_the_selection_pairs_and_the_spread_beside_it():
    summaries = {(42, "m", "modality"): summary("m", [0.70, 0.60]), (43, "m", "modality"): summary("m", [0.80, 0.90])}
    selection = {(42, "m", "modality"): summary("m", [0.50, 0.60]),  # seed 42: T 0.5 best on selection
                 (43, "m", "modality"): summary("m", [0.55, 0.55])}  # seed 43: a tie, the lowest temperature
    table = seeds_table(summaries, selection, "validation")
    assert table["seed"].tolist() == [42, 43] and table["temperature"].tolist() == [0.5, 0.1]
    assert table["headline"].tolist() == [0.60, 0.80] and table["highest_over_scan"].tolist() == [0.70, 0.90]
    assert table["selection_headline"].tolist() == [0.60, 0.55] and table["metric"].eq("accuracy").all()
    assert table["mean_over_seeds"].tolist() == [0.70, 0.70] and table["seeds"].tolist() == [2, 2]
    assert table["sd_over_seeds"].iloc[0] == pytest.approx(0.1414, abs=1e-4)  # sqrt(((0.1)^2 * 2) / (2 - 1))
    assert table[["min_over_seeds", "max_over_seeds"]].iloc[1].tolist() == [0.60, 0.80]
    fixed = seeds_table(summaries, selection, 0.5)  # a pre-registered temperature: every seed at it
    assert fixed["headline"].tolist() == [0.60, 0.90] and fixed["mean_over_seeds"].iloc[0] == pytest.approx(0.75)


def test_further_seeds_train_on_the_same_pairs_and_leave_the_run_s_adapter_alone():
    config = {"finetune": {"seed": 42, "seeds": 3, "val_fraction": 0.05, "per_task": {}}}
    assert training_seeds(config) == [42, 43, 44]
    assert training_seeds({"finetune": {"seed": 7}}) == [7]
    # the count is not a setting of the adapters: adding seeds does not retrain the run's own
    assert "seeds" not in finetune_settings(config, "modality")


def test_the_written_plan_says_how_the_seeds_enter_the_tests(tmp_path):
    import yaml

    from radonc_llm.evaluation import write_plan
    statistics = {"temperature": "validation", "selection_size": None, "seed": 1}
    for seeds in ([42, 43, 44], [42]):
        write_plan({"primary": "fine-tuned vs vanilla"}, statistics, {}, ["m"], ["modality"], tmp_path / "p.yaml",
                   seeds)
        written = yaml.safe_load((tmp_path / "p.yaml").read_text())
        assert written["training_seeds"] == seeds
        if len(seeds) == 1:
            assert written["tests"]["accuracy"] == "McNemar exact, two-sided"
        else:
            assert "per-case mean over its 3 training seeds" in written["tests"]["accuracy"]
            assert "tested as ROUGE-1 is" in written["tests"]["accuracy"]

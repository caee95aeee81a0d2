"""The prompting variants: which solved training cases each eval case is shown, and how they are rendered."""
import pandas as pd
import pytest

from radonc_llm.demonstrations import example_rows, prompts_with_examples
from radonc_llm.models import load_tokenizer
from radonc_llm.prompting import render_prompt
from radonc_llm.variants import VARIANTS, variant

DRAW = {name: v.draw for name, v in VARIANTS.items()}


def pairs(ids, diagnoses):
    return pd.DataFrame({"case_id": ids, "diagnosis": diagnoses, "prompt": [f"Which modality: {d}" for d in diagnoses],
                         "answer": [f"answer {i}" for i in ids]})


TRAIN = pairs(["t1", "t2", "t3", "t4", "t5"],
              ["left breast cancer", "prostate adenocarcinoma gleason 7", "right breast cancer ductal carcinoma",
               "glioblastoma frontal lobe", "prostate cancer"])
EVAL = pairs(["e1", "e2", "e3"], ["prostate adenocarcinoma", "right breast ductal carcinoma", "frontal glioblastoma"])


def shown(rows, train=TRAIN):
    return [[train["case_id"].iat[i] for i in row] for row in rows]


def test_retrieved_examples_are_the_nearest_training_cases_nearest_last():
    rows = example_rows(DRAW["retrieved"], TRAIN, EVAL, k=2, seed=0)
    # e1 shares "prostate adenocarcinoma" (a bigram too) with t2, "prostate" with t5; e2 shares four words with
    # t3 and two with t1; e3 shares two words with t4 only, then every other case is equally far (0): t1 first
    assert shown(rows) == [["t5", "t2"], ["t1", "t3"], ["t1", "t4"]]
    assert example_rows(DRAW["retrieved"], TRAIN, EVAL, k=2, seed=99) == rows  # deterministic, no seed involved
    assert all(case not in EVAL["case_id"].tolist() for row in shown(rows) for case in row)
    assert len(example_rows(DRAW["retrieved"], TRAIN, EVAL, k=9, seed=0)[0]) == len(TRAIN)  # k capped at the train size


def test_no_eval_case_and_never_the_case_itself_is_shown():
    leaked = pd.concat([TRAIN, EVAL.iloc[[1]]], ignore_index=True)
    with pytest.raises(ValueError, match="1 eval cases are also training pairs"):
        example_rows(DRAW["retrieved"], leaked, EVAL, k=2, seed=0)
    with pytest.raises(ValueError, match="training pairs"):
        example_rows(DRAW["fewshot"], leaked, EVAL, k=2, seed=0)


def test_fewshot_is_one_seeded_draw_for_every_case():
    train = pairs([f"t{i}" for i in range(40)], [f"diagnosis {i}" for i in range(40)])
    rows = example_rows(DRAW["fewshot"], train, EVAL, k=4, seed=3)
    assert rows[0] == rows[1] == rows[2] and len(set(rows[0])) == 4
    assert example_rows(DRAW["fewshot"], train, EVAL, k=4, seed=3) == rows
    assert example_rows(DRAW["fewshot"], train, EVAL, k=4, seed=4)[0] != rows[0]
    with pytest.raises(ValueError, match="unknown variant 'nearest'"):
        variant("nearest")


@pytest.mark.parametrize("prompt_format, expected", [
    ("llama2", "{bos}[INST] q1 [/INST] a1 {eos}{bos}[INST] q2 [/INST] a2 {eos}{bos}[INST] case [/INST]"),
    ("mistral", "{bos}[INST] q1 [/INST]a1{eos}[INST] q2 [/INST]a2{eos}[INST] case [/INST]"),
])
def test_examples_are_earlier_turns_of_the_models_own_chat_format(tiny, prompt_format, expected):
    tokenizer = load_tokenizer(tiny / "base", prompt_format)
    text = render_prompt(tokenizer, "case", [("q1", "a1"), ("q2", "a2")])
    assert text == expected.format(bos=tokenizer.bos_token, eos=tokenizer.eos_token)
    assert render_prompt(tokenizer, "case") == f"{tokenizer.bos_token}[INST] case [/INST]"  # what adapters train on


def test_prompts_too_long_for_the_context_lose_their_least_similar_examples_first(tiny):
    tokenizer = load_tokenizer(tiny / "base", "llama2")
    train, evaluation = pd.read_parquet(tiny / "train.parquet"), pd.read_parquet(tiny / "eval.parquet")
    rows = example_rows(DRAW["retrieved"], train, evaluation, k=4, seed=0)

    def length(prompt, examples):
        text = render_prompt(tokenizer, prompt, [(train["prompt"].iat[i], train["answer"].iat[i]) for i in examples])
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    limit = length(evaluation["prompt"].iat[0], rows[0][2:])  # room for the first case's two nearest examples
    prompts, kept, cut = prompts_with_examples(tokenizer, train, evaluation, rows, limit)
    assert kept[0] == rows[0][2:]
    for prompt, full, examples, text in zip(evaluation["prompt"], rows, kept, prompts):
        assert examples == full[len(full) - len(examples):]  # a suffix: the nearest examples are kept
        assert length(prompt, examples) <= limit or not examples
        assert examples == full or length(prompt, full[len(full) - len(examples) - 1:]) > limit
        assert text.endswith(render_prompt(tokenizer, prompt)[len(tokenizer.bos_token):])
    assert cut == sum(len(e) < len(f) for e, f in zip(kept, rows)) > 0
    assert prompts_with_examples(tokenizer, train, evaluation, rows, 10_000)[2] == 0


def test_a_prompt_too_long_for_the_context_loses_its_start_not_its_question_end(tiny):
    from radonc_llm.demonstrations import variant_prompts
    tokenizer = load_tokenizer(tiny / "base", "llama2")
    evaluation = pd.read_parquet(tiny / "eval.parquet").head(3).reset_index(drop=True)
    evaluation.loc[1, "prompt"] = "Which modality is used for this: " + "right lung nodule, " * 60 + "stage IIIA"

    def length(text):
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])
    limit = 120
    assert length(render_prompt(tokenizer, evaluation.loc[1, "prompt"])) > limit
    assert max(length(render_prompt(tokenizer, p)) for p in evaluation["prompt"][[0, 2]]) <= limit
    prompts, examples, cut = variant_prompts(None, tokenizer, evaluation, max_tokens=limit)
    assert cut == 1 and examples is None
    assert [prompts[0], prompts[2]] == [render_prompt(tokenizer, p) for p in evaluation["prompt"][[0, 2]]]
    assert length(prompts[1]) <= limit and prompts[1].endswith("stage IIIA [/INST]")  # the start is what went
    assert "Which modality" not in prompts[1] and prompts[1].startswith(f"{tokenizer.bos_token}[INST] ")

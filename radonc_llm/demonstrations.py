"""The prompting variants: the vanilla model shown k solved training cases before the eval case.

- fewshot: k training pairs drawn once (seeded), the same for every eval case;
- retrieved: the k training pairs whose diagnosis is most similar to the case's (TF-IDF cosine, as the
  nearest-neighbour baseline), the most similar last, next to the question.
Examples are training pairs only, so no eval case, and never the case itself, is shown. A prompt that does
not fit the model's context (less the answer's room) loses examples one at a time from the front (for
`retrieved`: the least similar first).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .baselines import most_similar
from .prompting import cut_prompt_start, render_prompt


def fewshot_rows(train: pd.DataFrame, evaluation: pd.DataFrame, k: int, seed: int) -> list[list[int]]:
    """k training rows drawn once (seeded), the same for every eval case."""
    drawn = np.random.default_rng(seed).choice(len(train), size=k, replace=False)
    return [[int(i) for i in drawn]] * len(evaluation)


def retrieved_rows(train: pd.DataFrame, evaluation: pd.DataFrame, k: int, seed: int) -> list[list[int]]:
    """Per eval case, the k training rows most similar to it, the most similar last (no seed involved)."""
    return [[int(i) for i in row[::-1]] for row in most_similar(train, evaluation, k)]


def example_rows(draw, train: pd.DataFrame, evaluation: pd.DataFrame, k: int, seed: int) -> list[list[int]]:
    """Per eval case, the row numbers in `train` of its examples, in prompt order, as `draw` (a prompting
    variant's, `variants.VARIANTS[name].draw`) chooses them."""
    shared = set(train["case_id"]) & set(evaluation["case_id"])
    if shared:
        raise ValueError(f"{len(shared)} eval cases are also training pairs: examples must come from train only")
    return draw(train, evaluation, min(k, len(train)), seed)


def prompts_with_examples(tokenizer, train: pd.DataFrame, evaluation: pd.DataFrame, rows: list[list[int]],
                          max_tokens: int) -> tuple[list[str], list[list[int]], int]:
    """The rendered prompts, the example rows each kept, and how many cases lost examples to fit
    `max_tokens`."""
    prompts, kept, cut = [], [], 0
    for prompt, examples in zip(evaluation["prompt"], rows):
        examples = list(examples)
        while True:
            text = render_prompt(tokenizer, prompt, [(train["prompt"].iat[i], train["answer"].iat[i])
                                                     for i in examples])
            if not examples or len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= max_tokens:
                break
            examples = examples[1:]
        cut += len(examples) < len(rows[len(kept)])
        prompts.append(text)
        kept.append(examples)
    return prompts, kept, cut


def variant_prompts(draw, tokenizer, evaluation: pd.DataFrame, train: pd.DataFrame | None = None,
                    k: int = 0, seed: int = 0, max_tokens: int = 0) -> tuple[list[str], list[str] | None, int]:
    """One variant's rendered prompts (`draw`: its `Variant.draw`, None for a variant shown no examples), the
    case IDs each showed (comma-joined; None without examples) and how many prompts lost examples to fit
    `max_tokens` (without examples: how many were cut from their start to fit it)."""
    if draw is None:
        def length(prompt):
            return len(tokenizer(render_prompt(tokenizer, prompt), add_special_tokens=False)["input_ids"])
        prompts = list(evaluation["prompt"])
        rendered = [render_prompt(tokenizer, p) for p in prompts]
        over = [i for i, ids in enumerate(tokenizer(rendered, add_special_tokens=False)["input_ids"])
                if max_tokens and len(ids) > max_tokens]
        for i in over:
            rendered[i] = render_prompt(tokenizer, cut_prompt_start(tokenizer, prompts[i], length, max_tokens))
        return rendered, None, len(over)
    rows = example_rows(draw, train, evaluation, k, seed)
    prompts, kept, cut = prompts_with_examples(tokenizer, train, evaluation, rows, max_tokens)
    return prompts, [",".join(train["case_id"].iloc[i]) for i in kept], cut

"""One prompt format per model, used identically for training and prediction.

LLaMA-2 and Mistral format instructions differently. A tokenizer that ships a chat template
uses its own (`prompt_format: tokenizer`); base checkpoints without one get the published
format by name. Training (TRL renders the conversation) and prediction (`render_prompt`)
both go through the tokenizer's chat template, so they cannot drift apart. The prompting variants
show the vanilla model solved cases as earlier turns of the same conversation.
"""
from __future__ import annotations

CHAT_TEMPLATES = {
    # Meta's LLaMA-2 chat format: <s>[INST] question [/INST] answer </s>, each turn opened by <s>
    "llama2": (
        "{% for message in messages %}"
        "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'].strip() + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'].strip() + ' ' + eos_token }}"
        "{% endif %}{% endfor %}"
    ),
    # Mistral-7B-Instruct v0.1: <s>[INST] question [/INST]answer</s>
    "mistral": (
        "{{ bos_token }}{% for message in messages %}"
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'].strip() + ' [/INST]' }}"
        "{% elif message['role'] == 'assistant' %}{{ message['content'].strip() + eos_token }}"
        "{% endif %}{% endfor %}"
    ),
}


def use_prompt_format(tokenizer, prompt_format: str) -> None:
    """Give `tokenizer` the chat template of `prompt_format` ('llama2', 'mistral' or 'tokenizer')."""
    if prompt_format == "tokenizer":
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("prompt_format 'tokenizer' but the tokenizer has no chat template: "
                             f"use one of {', '.join(CHAT_TEMPLATES)}")
        return
    if prompt_format not in CHAT_TEMPLATES:
        raise ValueError(f"unknown prompt_format {prompt_format!r}: use tokenizer, {', '.join(CHAT_TEMPLATES)}")
    tokenizer.chat_template = CHAT_TEMPLATES[prompt_format]


def conversation(prompt: str, answer: str | None = None, examples=()) -> dict:
    """The conversational prompt/completion record TRL trains on; `examples` (prompt, answer) pairs come
    first, as earlier turns."""
    turns = [[{"role": "user", "content": p}, {"role": "assistant", "content": a}] for p, a in examples]
    record = {"prompt": [message for turn in turns for message in turn] + [{"role": "user", "content": prompt}]}
    if answer is not None:
        record["completion"] = [{"role": "assistant", "content": answer}]
    return record


def cut_prompt_start(tokenizer, prompt: str, length, limit: int) -> str:
    """`prompt` with tokens cut from its start until `length(prompt)`, the tokens of what it is rendered into, is
    at most `limit` ('' when nothing of it fits): a note too long for the model loses its start, never the
    answer after it or the end of the prompt, where generation starts."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    while ids and (n := length(prompt)) > limit:
        ids = ids[n - limit:] if n - limit < len(ids) else []
        prompt = tokenizer.decode(ids, skip_special_tokens=True)
    return prompt


def render_prompt(tokenizer, prompt: str, examples=()) -> str:
    """The exact text a model is given at prediction time (what TRL used as the training prompt), after
    the solved `examples` (prompt, answer) of a prompting variant."""
    return tokenizer.apply_chat_template(conversation(prompt, examples=examples)["prompt"], tokenize=False,
                                         add_generation_prompt=True)

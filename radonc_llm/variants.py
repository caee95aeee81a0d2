"""The predictors one base model gives, in one registry: zero-shot (vanilla), prompted with solved training cases
(fewshot, retrieved) and fine-tuned. Every module, the rules and the schema's enums (a test ties them) read the
variants here: what each is called in tables and figures, whether it needs an adapter, and which training cases
its prompts show. Also how a temperature is written in file names and labels, exactly."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .demonstrations import fewshot_rows, retrieved_rows


@dataclass(frozen=True)
class Variant:
    name: str  # in file names, tables and the config
    display: str  # in figures
    color: str  # in figures
    trained: bool = False  # the base with the task's LoRA adapter (rule finetune's)
    draw: Callable | None = None  # the solved training cases its prompts show (demonstrations.py); None: none

    @property
    def one_line(self) -> bool:
        """The model knows the answer's format (fine-tuned, or shown solved cases): its answer ends with its line."""
        return self.trained or self.draw is not None


VARIANTS = {v.name: v for v in (
    Variant("vanilla", "vanilla", "#9e9e9e"),
    Variant("fewshot", "few-shot", "#ff7f0e", draw=fewshot_rows),
    Variant("retrieved", "retrieved examples", "#2ca02c", draw=retrieved_rows),
    Variant("finetuned", "fine-tuned", "#1f77b4", trained=True),
)}
ORDER = list(VARIANTS)  # zero-shot, the prompting variants, fine-tuned: in every table and figure
PROMPTED = [v for v in ORDER if VARIANTS[v].draw]  # rule predict_prompted's (prompting.variants)
PLAIN = [v for v in ORDER if not VARIANTS[v].draw]  # rule predict's: one job each
UNTRAINED = [v for v in ORDER if not VARIANTS[v].trained]  # the base model without fine-tuning: its prompting
TRAINED = next(v for v in ORDER if VARIANTS[v].trained)
ZERO_SHOT = next(v for v in ORDER if not VARIANTS[v].trained and not VARIANTS[v].draw)


def variant(name: str) -> Variant:
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}: the variants are {', '.join(VARIANTS)}")
    return VARIANTS[name]


def display_name(name: str) -> str:
    """A variant's name in figures; any other predictor (a baseline) as it is."""
    return VARIANTS[name].display if name in VARIANTS else name


def temperature_name(temperature: float) -> str:
    """A temperature as file names and labels write it: exact (0.25 is '0.25', never '0.2'), with at least one
    decimal ('1.0'), so that two temperatures never share a file."""
    return repr(float(temperature))


def predictor_label(model: str, variant_name: str, temperature: float) -> str:
    """One model's variant at one temperature, as the paired tests and the breakdown name it."""
    return f"{model} {variant_name} (T={temperature_name(temperature)})"


def label_temperature(label: str) -> float | None:
    """The temperature of a `predictor_label`; None for a predictor without one (a baseline)."""
    _, found, rest = label.partition(" (T=")
    return float(rest.split(")")[0]) if found else None


def parse_predictor_label(label: str) -> tuple[str, str | None]:
    """(model, variant) of a `predictor_label`; (label, None) for any other predictor (a baseline)."""
    model, _, name = label.split(" (T=")[0].rpartition(" ")
    return (model, name) if model and name in VARIANTS else (label, None)

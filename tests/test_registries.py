"""The package's structure: one registry per concept (tasks.py, variants.py) that the other modules, the rules
and the schema read, and no import circle among the package's modules."""
import ast
import re
from pathlib import Path

import pytest
import yaml

from radonc_llm.tasks import ORDER as TASK_ORDER
from radonc_llm.tasks import TASKS
from radonc_llm.variants import ORDER as VARIANT_ORDER
from radonc_llm.variants import PLAIN, PROMPTED, VARIANTS, display_name, predictor_label

REPO = Path(__file__).parents[1]
PACKAGE = REPO / "radonc_llm"
REGISTRIES = {"tasks.py", "variants.py"}


def package_imports() -> dict[str, set[str]]:
    """Each module of the package -> the package modules it imports, at module level or inside a function."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import y / from . import x
                imported |= {node.module} if node.module else {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("radonc_llm"):
                imported.add(node.module.removeprefix("radonc_llm").lstrip(".") or node.names[0].name)
        graph[path.stem] = {m.split(".")[0] for m in imported} - {path.stem}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` (its modules in order), or None."""
    state = {}

    def visit(module, trail):
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                return trail[trail.index(other):] + [other]
            if other not in state and (found := visit(other, trail + [other])):
                return found
        state[module] = "done"
        return None

    return next((found for m in sorted(graph) if m not in state and (found := visit(m, [m]))), None)


def test_the_cycle_finder_finds_a_circle_through_a_function_level_import():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_among_the_package_modules():
    graph = package_imports()
    assert {"tasks", "variants", "metrics", "evaluation", "choice", "scan", "paired"} <= set(graph)
    assert "tasks" in graph["metrics"] and "stats" in graph["paired"]  # the reader sees the imports
    assert cycle(graph) is None, " -> ".join(cycle(graph))


def branches():
    """Every comparison against a task's or a variant's name outside the registries: `task == ...`,
    `variant != ...`, `... == "finetuned"`, `in ("vanilla", ...)`, in the package and the rules."""
    names = "|".join(map(re.escape, [*TASKS, *VARIANTS]))
    pattern = re.compile(rf"\b(task|variant)\s*(==|!=)|(==|!=)\s*[\"']({names})[\"']|\bin \(\s*[\"']({names})[\"']")
    files = [p for p in PACKAGE.glob("*.py") if p.name not in REGISTRIES] + [*REPO.glob("rules/*.smk"),
                                                                              REPO / "Snakefile"]
    return [f"{p.name}:{n}: {line.strip()}" for p in files for n, line in enumerate(p.read_text().splitlines(), 1)
            if pattern.search(line)]


def test_no_module_branches_on_a_task_or_variant_name():
    assert branches() == []


def test_the_schemas_variant_enums_are_the_registrys():
    schema = yaml.safe_load((REPO / "config/schema.yaml").read_text())["properties"]
    assert schema["prompting"]["properties"]["variants"]["items"]["enum"] == PROMPTED
    from radonc_llm.grading import ARMS
    assert schema["grading"]["properties"]["arms"]["items"]["enum"] == list(ARMS)
    assert set(schema["tasks"]["required"]) == set(TASK_ORDER)


def test_the_variant_registry_says_what_each_variant_is():
    assert VARIANT_ORDER == ["vanilla", "fewshot", "retrieved", "finetuned"]
    assert PROMPTED == ["fewshot", "retrieved"] and PLAIN == ["vanilla", "finetuned"]
    assert [v for v in VARIANT_ORDER if VARIANTS[v].trained] == ["finetuned"]
    assert [v for v in VARIANT_ORDER if VARIANTS[v].one_line] == ["fewshot", "retrieved", "finetuned"]
    assert display_name("fewshot") == "few-shot" and display_name("majority baseline") == "majority baseline"
    assert predictor_label("tiny-llama", "finetuned", 0.25) == "tiny-llama finetuned (T=0.25)"


@pytest.mark.parametrize("task, classifies, labelled, coded", [("regimen", False, False, False),
                                                               ("modality", True, True, False),
                                                               ("icd10", True, False, True)])
def test_the_task_registry_says_what_differs_per_task(task, classifies, labelled, coded):
    spec = TASKS[task]
    assert (spec.classifies, spec.labelled, spec.coded) == (classifies, labelled, coded)
    assert spec.baselines and (spec.average is None) != classifies


def test_a_predictor_label_reads_back_as_its_model_and_variant():
    from radonc_llm.variants import parse_predictor_label
    assert parse_predictor_label(predictor_label("tiny-llama", "fewshot", 0.25)) == ("tiny-llama", "fewshot")
    assert parse_predictor_label("majority baseline") == ("majority baseline", None)

"""The documentation stays true: its links lead somewhere, and the config keys and files it names exist."""
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parents[1]
PAGES = [REPO / "README.md", REPO / "config" / "README.md", REPO / "results" / "README.md",
         *sorted((REPO / "docs").glob("*.md"))]
SCHEMA = yaml.safe_load((REPO / "config" / "schema.yaml").read_text())
FILE_TYPES = (".conf", ".csv", ".yaml", ".py", ".md", ".json")
# the graders' sheets and the annotation tables: the docs say where to save them (the tables' templates are tracked)
USER_FILES = ("config/annotations/modality_overrides.csv", "config/annotations/text_separations.csv")
FOLDERS = ("benchmarks", "config", "docs", "envs", "profiles", "radonc_llm", "report", "rules", "scripts", "tests")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def links(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def schema_has(path: list[str]) -> bool:
    node = SCHEMA
    for part in path:
        if part.startswith("<"):  # a placeholder: any name the schema allows there
            node = node.get("additionalProperties") or next(iter(node.get("patternProperties", {}).values()), None)
        else:
            node = node.get("properties", {}).get(part)
        if isinstance(node, dict) and "$ref" in node:  # '#/$defs/name'
            node = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if not isinstance(node, dict):
            return False
    return True


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_internal_link_and_anchor_exists(page):
    for link in links(page):
        if re.match(r"[a-z]+:", link):
            continue  # a web address
        target, _, anchor = link.partition("#")
        target = (page.parent / target).resolve() if target else page
        assert target.exists(), f"{page.name}: link to missing {link}"
        if anchor:
            assert anchor in anchors(target), f"{page.name}: {link}: no such heading in {target.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_config_key_and_repository_file_named_exists(page):
    text = page.read_text()
    named = re.findall(r"`([a-z_]+(?:\.(?:[a-z_0-9]+|<\w+>))+)(?::[^`]*)?`", text)
    keys = [k.split(".") for k in named if k.split(".")[0] in SCHEMA["properties"] and not k.endswith(FILE_TYPES)]
    assert all(schema_has(k) for k in keys), [".".join(k) for k in keys if not schema_has(k)]
    files = re.findall(r"`((?:%s)/[\w./-]+)`" % "|".join(FOLDERS), text)
    missing = [f for f in files if not (REPO / f).exists() and not f.startswith(USER_FILES)]
    assert not missing, missing


def test_readme_is_short_and_names_every_page_under_docs():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert all(f"(docs/{p.name})" in readme for p in (REPO / "docs").glob("*.md"))
    assert "report.html" in readme and "table1.csv" in readme


def test_no_history_narration_in_the_user_docs():
    for page in PAGES:
        for phrase in ("this round", "later session", "this session", "in a later", "previous session"):
            assert phrase not in page.read_text().lower(), f"{page.name}: '{phrase}'"


def commands(text: str) -> list[str]:
    """The snakemake command lines a page shows (code spans, code blocks, recipe lines)."""
    found = re.findall(r"`([^`\n]*snakemake[^`\n]*)`|^\s*(?:\$\(BIN\)/)?([^`\n]*snakemake [^`\n]*)$", text, flags=re.M)
    return [command for span, line in found for command in (span, line) if command]


def repeated_configfile(command: str) -> bool:
    return len(re.findall(r"--configfile(?=[\s=])", command)) > 1


def test_the_repeated_configfile_finder_refuses_a_second_flag():
    assert repeated_configfile("snakemake --configfile config/paper.yaml --configfile my.yaml")
    assert not repeated_configfile("snakemake --profile profiles/slurm --configfile config/paper.yaml my.yaml")
    assert commands("run `snakemake --configfile a.yaml b.yaml` then\n\t$(BIN)/snakemake --configfile c.yaml\n") == [
        "snakemake --configfile a.yaml b.yaml", "snakemake --configfile c.yaml"]


@pytest.mark.parametrize("page", [*PAGES, REPO / "Makefile", *sorted((REPO / "config").glob("*.yaml"))],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_every_layered_command_uses_one_configfile_flag(page):
    """Snakemake's --configfile takes a list: a second flag replaces the first (config/paper.yaml dropped)."""
    shown = commands(page.read_text())
    assert [c for c in shown if repeated_configfile(c)] == []

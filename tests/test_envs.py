"""The per-rule conda environments pin what requirements.txt / constraints.txt pin, so that
`--software-deployment-method conda` on a cluster runs the versions the tests ran."""
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parents[1]
CONDA_NAMES = {"matplotlib-base": "matplotlib"}  # conda-forge's name -> the pip name


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(*files) -> dict[str, str]:
    found = {}
    for f in files:
        for line in (REPO / f).read_text().splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                name, version = line.split("==")
                found[canonical(name)] = version.strip()
    return found


def env_pins(path: Path) -> dict[str, str]:
    spec = yaml.safe_load(path.read_text())
    found = {}
    for dep in spec["dependencies"]:
        for item in dep["pip"] if isinstance(dep, dict) else [dep]:
            item = item.split("#")[0].strip()
            name, _, version = re.split(r"(==|=)", item, maxsplit=1) if "=" in item else (item, "", "")
            found[canonical(CONDA_NAMES.get(name, name))] = version
    return found


@pytest.mark.parametrize("env", sorted((REPO / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_agree_with_the_python_requirements(env):
    project = pins("requirements.txt", "constraints.txt")
    declared = env_pins(env)
    assert declared.pop("python") == "3.11" and declared.pop("pip") == ""
    assert all(declared.values()), f"{env.name}: unpinned {[n for n, v in declared.items() if not v]}"
    assert {n: v for n, v in declared.items() if project.get(n) != v} == {}, env.name


def test_every_rule_with_code_names_an_existing_env():
    for rules in (REPO / "rules").glob("*.smk"):
        for env in re.findall(r'conda:\s*\n\s*"([^"]+)"', rules.read_text()):
            assert (rules.parent / env).resolve().is_file(), (rules.name, env)


def test_post_deploy_scripts_install_the_nodeps_pins():
    nodeps = pins("requirements-nodeps.txt")
    for script in (REPO / "envs").glob("*.post-deploy.sh"):
        installed = dict(re.findall(r"([A-Za-z0-9_.-]+)==([\w.]+)", script.read_text()))
        assert installed and {canonical(n): v for n, v in installed.items()} == nodeps, script.name
        assert "--no-deps" in script.read_text()

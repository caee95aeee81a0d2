"""The repository says how to cite it and the study it reproduces, and under which licence."""
from pathlib import Path

import yaml

REPO = Path(__file__).parents[1]


def test_citation_file_cites_the_workflow_and_the_study():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "software" and cff["license"] == "MIT"
    [study] = cff["references"]
    assert study["year"] == 2024 and "Radiation Oncology" in study["title"]
    first_two = [(a["family-names"], a["given-names"]) for a in study["authors"][:2]]
    assert first_two == [("Wang", "Peilong"), ("Liu", "Zhengliang")]  # co-first authors, as in the paper


def test_licence_is_the_one_the_readme_and_citation_name():
    assert (REPO / "LICENSE").read_text().startswith("MIT License")
    readme = (REPO / "README.md").read_text()
    assert "CITATION.cff" in readme and "MIT licence" in readme

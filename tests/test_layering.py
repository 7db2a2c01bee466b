"""The layering DESIGN.md fixes: core <- workflows <- {inbox, db, mailer} <- app <- main.py.

A package imports only from packages to its left: the rules never reach for a socket or a file, and
reading mail, storing it and writing letters never lean on each other. This test reads every import
(deferred ones inside functions too) and names each that goes against it.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).parent.parent
RANK = {"core": 0, "workflows": 1, "inbox": 2, "db": 2, "mailer": 2, "app": 3}


def imports_against_the_layering(root: Path = ROOT) -> list[str]:
    """`file: imports module` for every import of a package at the same rank or to the right."""
    found = []
    for package, rank in RANK.items():
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in RANK and top != package and RANK[top] >= rank:
                        found.append(f"{path.relative_to(root)}: imports {module}")
    return found


def test_every_package_imports_only_from_its_left():
    assert imports_against_the_layering() == []


def test_the_check_sees_an_import_against_the_layering(tmp_path):
    for package in RANK:
        (tmp_path / package).mkdir()
    (tmp_path / "workflows" / "rules.py").write_text("def f():\n    from inbox.intent import read_decision\n")
    (tmp_path / "inbox" / "reader.py").write_text("import db.store\nfrom core.clock import Clock\n")
    assert imports_against_the_layering(tmp_path) == [
        "workflows/rules.py: imports inbox.intent", "inbox/reader.py: imports db.store"]

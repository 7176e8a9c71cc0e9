"""The layout keeps the sign-in flow closed: steps never import the controller, and the flow and
upstream identity (``sso/``) import each other in one direction only."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports(path: Path) -> list[tuple[str, list[str], bool]]:
    """(module, names, only for type checking) of each import in ``path``, relative ones resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    tree = ast.parse(path.read_text())
    found = []

    def visit(node, type_checking: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                visit(child, True)
            elif isinstance(child, ast.Import):
                found.extend((alias.name, [], type_checking) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - child.level + 1] if child.level else []
                module = ".".join([*base, child.module] if child.module else base)
                found.append((module, [alias.name for alias in child.names], type_checking))
            else:
                visit(child, type_checking)

    visit(tree, False)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("signin/steps"), ids=lambda p: p.name)
def test_no_step_imports_the_controller(path):
    assert not [m for m, _, _ in imports(path) if m.startswith("signin.controller")]


@pytest.mark.parametrize("path", modules("signin"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_sign_in_flow_does_not_import_upstream_identity(path):
    assert not [m for m, _, _ in imports(path) if m == "sso" or m.startswith("sso.")]


@pytest.mark.parametrize("path", modules("sso"), ids=lambda p: str(p.relative_to(ROOT)))
def test_upstream_identity_resumes_the_flow_only_through_signin_resume(path):
    used = [(m, names) for m, names, type_only in imports(path)
            if not type_only and (m == "signin" or m.startswith("signin."))]
    assert all(m == "signin" and names == ["resume"] for m, names in used), used

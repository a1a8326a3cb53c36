"""Print module and function sizes; exit 1 when one is past the limit.

Limits (issue "One shape, one way"): a module holds one concept and stays at most
300 lines, a function fits on a screen, at most 50 lines (decorators excluded,
docstring included). Run by ``make lint`` and ``make test``:

    python scripts/check_sizes.py [--top N] [PATH ...]   # default: libs services examples
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50
DEFAULT_ROOTS = ("libs", "services", "examples")


def python_files(roots: list[Path]) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        candidates = [root] if root.is_file() else sorted(root.rglob("*.py"))
        files += [p for p in candidates if not any(part.startswith(".") for part in p.parts)]
    return files


def function_sizes(tree: ast.AST) -> list[tuple[str, int, int]]:
    """(qualified name, first line, length) of every function and method."""
    found: list[tuple[str, int, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                end = child.end_lineno or child.lineno
                found.append((name, child.lineno, end - child.lineno + 1))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def measure(files: list[Path]) -> dict[str, list[dict[str, object]]]:
    modules, functions = [], []
    for path in files:
        text = path.read_text()
        modules.append({"path": str(path), "lines": len(text.splitlines())})
        for name, line, length in function_sizes(ast.parse(text, str(path))):
            functions.append({"path": f"{path}:{line}", "function": name, "lines": length})
    return {"modules": modules, "functions": functions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(p) for p in DEFAULT_ROOTS])
    parser.add_argument("--top", type=int, default=5, help="also list the N largest of each")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    sizes = measure(python_files(args.paths))
    big_modules = [m for m in sizes["modules"] if int(str(m["lines"])) > MAX_MODULE_LINES]
    big_functions = [f for f in sizes["functions"] if int(str(f["lines"])) > MAX_FUNCTION_LINES]
    summary = {
        "modules": len(sizes["modules"]),
        "functions": len(sizes["functions"]),
        f"modules_over_{MAX_MODULE_LINES}": big_modules,
        f"functions_over_{MAX_FUNCTION_LINES}": big_functions,
        "largest_modules": sorted(sizes["modules"], key=lambda m: -int(str(m["lines"])))[: args.top],
        "largest_functions": sorted(sizes["functions"], key=lambda f: -int(str(f["lines"])))[: args.top],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['modules']} modules, {summary['functions']} functions")
        for m in big_modules:
            print(f"  module over {MAX_MODULE_LINES} lines: {m['path']} ({m['lines']})")
        for f in big_functions:
            print(f"  function over {MAX_FUNCTION_LINES} lines: {f['path']} {f['function']} ({f['lines']})")
    if big_modules or big_functions:
        print(f"size check failed: {len(big_modules)} module(s), {len(big_functions)} function(s) past the limits")
        return 1
    print("size check ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

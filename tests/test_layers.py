"""The house rules of the code: who may import whom, and what the pages may load."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

FRAMEWORKS = ("torch", "onnxruntime", "openvino", "transformers", "tensorflow", "ai_edge_litert", "nncf")


def test_the_import_contracts_hold():
    """pyproject.toml's import-linter contracts: pages above rules above the summary above
    results, and no pipeline module imports the pages or the rules."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_rendering_a_page_loads_no_framework():
    """The site hook, the report and the rules import no framework: a page renders from results
    files alone, in seconds, on a machine without torch."""
    code = (
        "import sys; sys.path.insert(0, 'scripts');"
        "import mkdocs_hooks, benchmarks.report, benchmarks.claims, benchmarks.summary;"
        "from benchmarks.claims import all_verdicts; all_verdicts();"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "[]", run.stdout

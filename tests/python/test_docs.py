"""The Python code blocks of docs/python-quickstart.md run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "python-quickstart.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_doc_has_python_blocks() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_block_runs(i: int, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", BLOCKS[i]], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # Every "# value" comment that shows a literal printed value appears in the output.
    if i == 0:
        assert "OTSConditionCheckFail" in out.stdout
        assert "['Grace']" in out.stdout
        assert "[(True, None), (False, 'OTSConditionCheckFail')]" in out.stdout
        assert "1 {'uid': 2}" in out.stdout
        assert "{'uid': 1} {'admin': True, 'age': 37, 'logins': 1, 'name': 'Ada'}" in out.stdout
    elif "correct horse" in BLOCKS[i]:
        # The backup block: verify ok, the restored past differs, 2 rows exported.
        assert out.stdout.split() == ["True", "True", "2"]
    else:
        assert out.stdout.strip() == "21.5"


README = Path(__file__).resolve().parents[2] / "README.md"
README_BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("i", range(len(README_BLOCKS)))
def test_readme_block_runs_and_prints_what_it_says(i: int, tmp_path: Path) -> None:
    """README's Python blocks run as written; a `# text` comment after a print shows its output."""
    code = README_BLOCKS[i]
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for line in code.splitlines():
        if line.lstrip().startswith("print(") and "#" in line:
            shown = line.split("#", 1)[1].strip()
            if "<" not in shown and "64 hex" not in shown:
                assert shown in out.stdout, f"{shown!r} not in {out.stdout!r}"


def test_readme_has_python_blocks() -> None:
    assert len(README_BLOCKS) >= 3

"""Print the constraints (lock) file for `make setup` from a venv that passed the tests:
`python scripts/write_constraints.py VENV_PYTHON > constraints.txt` (what `make lock` does).

laif itself is left out (it is installed from the checkout) and so is llama-cpp-python
(pinned in pyproject.toml, installed from the Makefile's own wheelhouse build)."""

from __future__ import annotations

import subprocess
import sys

SKIP = {"laif", "llama-cpp-python", "llama_cpp_python"}


def main() -> None:
    python = sys.argv[1] if len(sys.argv) > 1 else sys.executable
    frozen = subprocess.run([python, "-m", "pip", "freeze", "--exclude-editable"], check=True,
                            capture_output=True, text=True).stdout.splitlines()
    pins = sorted((line for line in frozen if "==" in line and line.split("==")[0].lower() not in SKIP),
                  key=str.lower)
    print("# The versions `make test` passed with; `make setup` installs against them.")
    print("# Made by scripts/write_constraints.py (`make lock` refreshes it after a test run). Do not edit.")
    print("\n".join(pins))


if __name__ == "__main__":
    main()

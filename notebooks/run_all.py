"""Execute every notebook in this directory headless, without writing outputs back.

    python notebooks/run_all.py            # all notebooks
    python notebooks/run_all.py 02         # only those whose name contains "02"

Each notebook runs in a fresh python3 kernel with notebooks/ as the working directory, on an
in-memory copy: the committed .ipynb files keep their cleared outputs. Prints one line per
notebook and then `N passed, M failed`; exits 1 if any failed.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

HERE = Path(__file__).resolve().parent
CELL_TIMEOUT_S = 300


def first_line_of_error(exc: Exception) -> str:
    ename = getattr(exc, "ename", None)
    evalue = getattr(exc, "evalue", None)
    text = f"{ename}: {evalue}" if ename else (str(exc) or type(exc).__name__)
    return " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def run(path: Path) -> tuple[bool, float, str]:
    nb = nbformat.read(path, as_version=4)  # an in-memory copy; never written back
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        return False, time.perf_counter() - start, first_line_of_error(exc)
    except Exception as exc:  # kernel failed to start, died, …
        return False, time.perf_counter() - start, f"{type(exc).__name__}: {exc}".splitlines()[0]
    return True, time.perf_counter() - start, ""


def main(argv: list[str]) -> int:
    notebooks = sorted(p for p in HERE.glob("*.ipynb") if not p.name.startswith("."))
    if argv:
        notebooks = [p for p in notebooks if any(a in p.name for a in argv)]
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    passed = failed = 0
    for path in notebooks:
        ok, seconds, why = run(path)
        if ok:
            passed += 1
            print(f"PASS  {path.name}  ({seconds:.1f} s)", flush=True)
        else:
            failed += 1
            print(f"FAIL  {path.name}  ({seconds:.1f} s)  {why}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

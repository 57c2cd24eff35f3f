"""A tiny helper for the notebooks: call the occam binary and parse what it prints.

The binary is $OCCAM_BIN if set, else ../target/release/occam relative to this directory
(the notebooks' directory). Build it with `cargo build --release` in the repository root.
"""

import io
import json as _json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

NOTEBOOK_DIR = Path(__file__).resolve().parent
REPO_DIR = NOTEBOOK_DIR.parent


class OccamError(subprocess.CalledProcessError):
    """occam exited non-zero; str() carries the command line and occam's own message."""

    def __str__(self):
        cmd = " ".join(str(a) for a in self.cmd)
        return f"`{cmd}` exited {self.returncode}:\n{(self.stderr or '').strip()}"


def _find_binary() -> Path:
    env = os.environ.get("OCCAM_BIN")
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"OCCAM_BIN={env!r} is not a file: point it at the occam binary")
        return path
    name = "occam.exe" if sys.platform == "win32" else "occam"
    path = (REPO_DIR / "target" / "release" / name).resolve()
    if not path.is_file():
        raise FileNotFoundError(
            f"no occam binary at {path}: run `cargo build --release` in {REPO_DIR} "
            "(or set OCCAM_BIN to the binary)"
        )
    return path


BIN = _find_binary()


def run(*args) -> str:
    """Run `occam ARGS…` and return its stdout; raise OccamError (with occam's message) on failure."""
    cmd = [str(BIN), *(str(a) for a in args)]
    try:
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        raise OccamError(e.returncode, e.cmd, e.stdout, e.stderr) from None
    return done.stdout


def json(*args) -> dict:
    """`occam ARGS… --format json`, parsed."""
    return _json.loads(run(*args, "--format", "json"))


def frame(*args) -> pd.DataFrame:
    """`occam ARGS… --format csv`, read into a DataFrame."""
    return pd.read_csv(io.StringIO(run(*args, "--format", "csv")))

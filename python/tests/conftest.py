"""Shared fixtures: the release `occam` binary, whose JSON the package must reproduce."""

import json
import os
import pathlib
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


def _binary():
    explicit = os.environ.get("OCCAM_BIN")
    path = pathlib.Path(explicit) if explicit else REPO / "target" / "release" / "occam"
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def occam_binary():
    """The release binary. Without it the comparison tests are skipped with the reason — except
    under CI=true, where a missing binary fails them (CI builds it first)."""
    binary = _binary()
    if binary is None:
        message = "the release binary is missing: cargo build --release (or set OCCAM_BIN)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return binary


@pytest.fixture(scope="session")
def occam_cli(occam_binary):
    """Runs `occam ARGS --format json` and returns the parsed document."""
    binary = occam_binary

    def run(*args):
        out = subprocess.run(
            [str(binary), *args, "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout)

    return run

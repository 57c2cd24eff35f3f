"""The native module (python/src/lib.rs); use the functions of `occam` instead."""

from typing import Any, Optional

import numpy as np
import numpy.typing as npt

OCCAM_VERSION: str

class OccamError(ValueError): ...
class FitError(RuntimeError): ...

_Columns = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], list[str], str, list[str], str]

def fit_json(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    info: dict[str, Any],
    prior_sd: str,
    prior_center: str,
    options: dict[str, Any],
) -> str: ...
def compare_json(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    info: dict[str, Any],
    centers: str,
    sds: str,
    rank_by: str,
    options: dict[str, Any],
) -> str: ...
def convert_json(
    knob: str,
    value: float,
    n: Optional[int] = None,
    noise_sd: Optional[float] = None,
    loss: Optional[str] = None,
) -> str: ...
def datasets_json() -> str: ...
def load(name: str) -> _Columns: ...
def simulate_py(
    teacher: str,
    n: int,
    k: int,
    weight_center: float,
    weight_scale: float,
    intercept: float,
    noise_sd: float,
    hidden: list[int],
    activation: str,
    task: str,
    classes: int,
    seed: int,
) -> tuple[_Columns, str]: ...

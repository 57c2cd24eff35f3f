"""Type stubs of the occam package (see occam/__init__.py for the docstrings)."""

from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt
import pandas as pd

__version__: str
SOURCE_ATTR: str

class OccamError(ValueError):
    """Bad input: the command line's message, settings named as keyword arguments."""

class FitError(RuntimeError):
    """A computation that failed: the message says what was tried."""

class _Node:
    def __getattr__(self, name: str) -> Any: ...
    def __getitem__(self, name: str) -> Any: ...
    def __contains__(self, name: str) -> bool: ...
    def keys(self) -> Iterable[str]: ...
    def to_dict(self) -> dict[str, Any]: ...

class Fit(_Node):
    """The keys of `occam fit --format json` as attributes; `to_dict()` is the document."""

_Matrix = Union[npt.ArrayLike, pd.DataFrame, Sequence[Sequence[float]]]
_Target = Union[npt.ArrayLike, pd.Series, Sequence[Union[float, str]]]
_Sd = Union[str, float]

def fit(
    X: _Matrix,
    y: _Target,
    *,
    model: str = "linear",
    prior_sd: _Sd = "auto",
    prior_center: str = "zero",
    noise_sd: _Sd = "auto",
    intercept: Optional[str] = None,
    standardize: bool = True,
    shuffle: Optional[int] = None,
    codes: Union[str, Iterable[str]] = "all",
    hidden: Union[int, Sequence[int]] = (8,),
    activation: str = "tanh",
    task: Optional[str] = None,
    restarts: int = 1,
    seed: int = 0,
    hessian: str = "ggn",
    first_block: int = 16,
    charge_reals: int = 0,
    source: Optional[str] = None,
) -> Fit: ...
def compare(
    X: _Matrix,
    y: _Target,
    *,
    centers: Union[str, Sequence[str]] = "zero",
    sds: Union[_Sd, Sequence[_Sd]] = "auto",
    rank_by: str = "mixture",
    model: str = "linear",
    noise_sd: _Sd = "auto",
    intercept: Optional[str] = None,
    standardize: bool = True,
    shuffle: Optional[int] = None,
    codes: Union[str, Iterable[str]] = "all",
    hidden: Union[int, Sequence[int]] = (8,),
    activation: str = "tanh",
    task: Optional[str] = None,
    restarts: int = 1,
    seed: int = 0,
    hessian: str = "ggn",
    first_block: int = 16,
    charge_reals: int = 0,
    source: Optional[str] = None,
) -> pd.DataFrame: ...
def convert(
    knob: str,
    value: float,
    *,
    n: Optional[int] = None,
    noise_sd: Optional[float] = None,
    loss: Optional[str] = None,
) -> dict[str, Any]: ...
def datasets() -> pd.DataFrame: ...
def load(name: str) -> tuple[pd.DataFrame, pd.Series]: ...
def simulate(
    teacher: str = "linear",
    *,
    n: int = 200,
    k: int = 5,
    weight_center: float = 0.0,
    weight_scale: float = 1.0,
    intercept: float = 0.0,
    noise_sd: float = 1.0,
    hidden: Union[int, Sequence[int]] = (8,),
    activation: str = "tanh",
    task: str = "regression",
    classes: int = 2,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series, dict[str, Any]]: ...

class SufficientStats:
    """n, means and centred co-moments of (x, y): mergeable (`+`), picklable, fittable."""

    @staticmethod
    def from_arrays(X: _Matrix, y: _Target) -> "SufficientStats": ...
    @staticmethod
    def from_json(text: str, source: str = "<json>") -> "SufficientStats": ...
    def to_json(self) -> str: ...
    def merge(self, other: "SufficientStats") -> "SufficientStats": ...
    def __add__(self, other: "SufficientStats") -> "SufficientStats": ...
    @property
    def n(self) -> int: ...
    @property
    def features(self) -> list[str]: ...
    @property
    def target(self) -> str: ...
    @property
    def mean(self) -> list[float]: ...
    @property
    def comoment(self) -> list[list[float]]: ...

def fit_stats(
    stats: SufficientStats,
    *,
    prior_sd: _Sd = "auto",
    prior_center: str = "zero",
    noise_sd: _Sd = "auto",
    standardize: bool = True,
    codes: Union[str, Iterable[str]] = "all",
    charge_reals: int = 0,
    source: str = "merged statistics",
) -> Fit: ...

"""Checks of the arguments users hand to the public API, before any reaches the C++ core.

pybind11 answers a value its C++ type cannot hold (an int past 64 bits, None for a string) with
an "incompatible function arguments" dump, and numpy wraps integers past int64 silently. Each
check here raises a TypeError (wrong kind of value) or ValueError (right kind, out of range)
that names the argument and what it got. The public methods call them; they return the value in
the form the core takes.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

# Genomic coordinates (starts, ends) are int64 in the engine, which adds window lengths and
# offsets to them: the range below keeps every such sum inside int64.
COORDINATE_LIMIT = 2**62
# Thread and queue counts: far beyond any machine, far below what size_t or a thread table holds.
COUNT_LIMIT = 2**16
UINT32_MAX = 2**32 - 1


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def integer(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    """A Python or numpy integer (not a bool, not a float) in [low, high]."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {_describe(value)}") from None
    if low is not None and number < low:
        raise ValueError(f"{name} must be at least {low}, got {number}")
    if high is not None and number > high:
        raise ValueError(f"{name} must be at most {high}, got {number}")
    return number


def real_number(value: Any, name: str) -> float:
    """A Python or numpy real number (not a bool); NaN and the infinities included."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_describe(value)}")
    return float(value)


def count(value: Any, name: str) -> int:
    """A number of threads or queued batches: 1 to COUNT_LIMIT."""
    return integer(value, name, 1, COUNT_LIMIT)


def coordinate(value: Any, name: str) -> int:
    """One genomic coordinate, which must fit the engine's signed 64-bit arithmetic."""
    return integer(value, name, -COORDINATE_LIMIT, COORDINATE_LIMIT)


def coordinates(values: Any, name: str) -> np.ndarray:
    """A 1-d sequence of coordinates as int64, refusing what does not fit before numpy wraps it
    (2**63 becomes uint64, then a negative int64; 2**70 an object array)."""
    # An ndarray as it is; anything else (a list, a masked array, whose min and max would skip
    # the masked values) through np.asarray, as the core sees it.
    array = values if type(values) is np.ndarray else np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got {array.ndim} dimensions")
    if array.size == 0:
        return array.astype(np.int64)
    if not isinstance(values, np.ndarray) and array.dtype.kind in "fO":
        # From a list: floats, or Python ints numpy could not hold (2**64 makes an object
        # array; 0 next to 2**63 a float64 one, rounded): judge each item as given.
        array = np.asarray(values, dtype=object)
    if array.dtype.kind == "O":
        for i, v in enumerate(array.tolist()):
            coordinate(v, f"{name}[{i}]")
        return np.array(array.tolist(), dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got an array of {array.dtype}")
    if array.itemsize < 8:  # int8 to uint32: always inside the limit
        return array.astype(np.int64)
    # The lowest and highest only, and for a small batch in Python: each numpy reduction costs
    # about a microsecond whatever the size, a third of a one-window get_batch's checks.
    items = array.tolist() if array.size <= 64 else None
    low, high = (min(items), max(items)) if items is not None else (int(array.min()), int(array.max()))
    if low < -COORDINATE_LIMIT or high > COORDINATE_LIMIT:
        i = int(np.argmax((array > COORDINATE_LIMIT) | (array < -COORDINATE_LIMIT)))
        raise ValueError(f"{name}[{i}] is {int(array[i])}, outside the coordinates the engine takes [-2**62, 2**62]")
    return array.astype(np.int64, copy=False)


def window_size(value: Any) -> int:
    return integer(value, "window_size", 1, UINT32_MAX)


def chromosome_name(value: Any, name: str = "chrom") -> str:
    """A chromosome name: a str without NUL (names in a bigWig end at the first NUL)."""
    if not isinstance(value, (str, np.str_)):
        raise TypeError(f"{name} must be a chromosome name (str), got {_describe(value)}")
    if "\x00" in value:
        raise ValueError(f"{name} {value!r} contains a NUL character, which no chromosome name has")
    return str(value)


def chromosome_names(values: Any, name: str = "chromosomes") -> Any:
    """A sequence of chromosome names: each a str without NUL. Checked once per distinct name,
    and before numpy sees them (a numpy str array drops trailing NULs without a word)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of chromosome names, got a single {type(values).__name__}")
    if isinstance(values, np.ndarray):
        if values.size == 0:
            return values
        if values.dtype.kind == "U":  # strings already: only a NUL inside one can be wrong
            distinct = np.unique(values).tolist()
        elif values.dtype.kind == "O":
            distinct = values.reshape(-1).tolist()
        else:
            raise TypeError(f"{name} must be names (str), got an array of {values.dtype}")
    else:
        try:
            distinct = list(values)
        except TypeError:
            raise TypeError(f"{name} must be a sequence of chromosome names, got {_describe(values)}") from None
    seen: set[Any] = set()
    for v in distinct:
        if isinstance(v, str) and v in seen:
            continue
        if not isinstance(v, (str, np.str_)):
            raise TypeError(f"{name} must be names (str), got {_describe(v)}")
        chromosome_name(v, f"{name} item")
        seen.add(v)
    return values

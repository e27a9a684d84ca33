"""The standard chromosome order, the one Python spelling of it: chr1..chr22, chrX, chrY, chrM,
then the others in natural order (digit runs compared as numbers: chr2 before chr10).

The engine orders a collection's chromosome table by the same rule (cpp/engine/chrom_order), so
``BigWigCollection.chromosomes`` is already in it; this module orders names that come from
elsewhere (``bigwig_loader.util.chromosome_sort``, ``sort_intervals``) and names the standard set
(``include_chromosomes="standard"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

STANDARD_CHROMOSOMES = tuple([f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY", "chrM"])

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """Natural order: digit runs compare as numbers (chr2 before chr10)."""
    pieces = (piece for piece in _DIGITS.split(str(text)) if piece)
    return tuple((0, int(piece), "") if piece.isdigit() else (1, 0, piece) for piece in pieces)


def chromosome_order(chromosomes: Iterable[str]) -> list[str]:
    """Distinct chromosome names in the standard order: the standard set first, in its order,
    then the others in natural order."""
    names = set(chromosomes)
    standard = [c for c in STANDARD_CHROMOSOMES if c in names]
    return standard + sorted(names.difference(STANDARD_CHROMOSOMES), key=natural_key)

"""bigwig-loader 0.3's ``bigwig_loader.util`` helpers that users call."""

from __future__ import annotations

from bigwig_loader.chromosomes import chromosome_order, natural_key

__all__ = ["chromosome_sort", "sort_intervals"]


def sort_intervals(intervals, inplace: bool = False):
    """`intervals` (a DataFrame with ``chrom`` and ``start``) sorted by chromosome in natural
    order (chr1, chr2, ..., chr10, ..., chrX) and by start within one, as 0.3 sorts them.
    With ``inplace`` the DataFrame itself is sorted and returned."""
    import pandas as pd

    def key(column: pd.Series) -> pd.Series:
        if column.name == "chrom":
            return column.map(natural_key)
        return column

    result = intervals.sort_values(by=["chrom", "start"], key=key)
    if not inplace:
        return result
    # pandas deprecates sort_values(inplace=True): rewrite the caller's frame row by row
    # (positional assignment: no index alignment), then give it the sorted index.
    for column in intervals.columns:
        intervals[column] = result[column].array
    intervals.index = result.index
    return intervals


def chromosome_sort(chromosomes) -> list[str]:
    """Distinct chromosome names: chr1..chr22, chrX, chrY, chrM first, then the others in
    natural order (the order of 0.3 and of ``BigWigCollection.chromosomes``)."""
    return chromosome_order(chromosomes)

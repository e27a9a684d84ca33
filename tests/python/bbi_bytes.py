"""A bigWig written byte by byte, for files no writer makes (pyBigWig refuses overlapping items):
one leaf node in each tree, bedGraph sections, blocks zlib-compressed. The C++ tests' builder
(tests/cpp/bbi_builder.hpp) does the same with more shapes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HEADER_BYTES = 64


def bedgraph_section(chrom_id: int, items: list[tuple[int, int, float]]) -> bytes:
    head = struct.pack("<IIIIIBBH", chrom_id, items[0][0], items[-1][1], 0, 0, 1, 0, len(items))
    return head + b"".join(struct.pack("<IIf", s, e, v) for s, e, v in items)


def write_bigwig(
    path: Path, chroms: list[tuple[str, int]], blocks: list[tuple[int, list[tuple[int, int, float]]]]
) -> list[int]:
    """Writes `blocks` [(chrom id, bedGraph items)] and returns each block's byte offset. Each
    block's R-tree extent is its first start to its last end, as writers set it."""
    key_size = max(len(name) for name, _ in chroms)
    chrom_tree = struct.pack("<IIIIQQ", 0x78CA8C91, len(chroms), key_size, 8, len(chroms), 0)
    chrom_tree += struct.pack("<BBH", 1, 0, len(chroms))
    for i, (name, size) in enumerate(chroms):
        chrom_tree += name.encode().ljust(key_size, b"\0") + struct.pack("<II", i, size)
    raw = [bedgraph_section(c, items) for c, items in blocks]
    stored = [zlib.compress(r) for r in raw]

    chrom_tree_at = HEADER_BYTES
    data_at = chrom_tree_at + len(chrom_tree)
    offsets, at = [], data_at + 8
    for s in stored:
        offsets.append(at)
        at += len(s)
    index_at = at
    index = struct.pack("<IIQIIIIQII", 0x2468ACE0, len(blocks), len(blocks), 0, 0, 0, 0, index_at, 1, 0)
    index += struct.pack("<BBH", 1, 0, len(blocks))
    for (c, items), offset, s in zip(blocks, offsets, stored):
        index += struct.pack("<IIIIQQ", c, items[0][0], c, items[-1][1], offset, len(s))
    header = struct.pack(
        "<IHHQQQHHQQIQ", 0x888FFC26, 4, 0, chrom_tree_at, data_at, index_at, 0, 0, 0, 0, max(len(r) for r in raw), 0
    )
    assert len(header) == HEADER_BYTES
    path.write_bytes(header + chrom_tree + struct.pack("<Q", len(blocks)) + b"".join(stored) + index)
    return offsets

"""`ReferenceGenome`: an indexed FASTA file read by the C++ core, and one-hot encoding."""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Sequence

import numpy as np

from bigwig_loader import _core, remote

# The open readers by file: every ReferenceGenome of one unchanged FASTA file in the process
# (a training and a validation dataset, say) shares one, so the file is indexed and memory-mapped
# once and its pages count once in the process's resident memory. The reader's errors name the
# path it was first opened by (another name of the same file, perhaps); a .fai rewritten beside an
# unchanged FASTA is read by the next reader, once none is open (it indexes the same bases).
_open_readers: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_open_readers_lock = threading.Lock()


def _reader(path: str):
    """The process's reader of the FASTA at `path`, opened when none is open for the file as it
    is now (the same device, inode, size and modification time)."""
    try:
        st = os.stat(path)
    except OSError:
        return _core.FastaFile(path)  # raises the reader's own error (FileNotFoundError, ...)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _open_readers_lock:
        reader = _open_readers.get(key)
        if reader is None:
            reader = _core.FastaFile(path)
            _open_readers[key] = reader
        return reader


# Whether guard_reads_once_in_process has run in this process; a forked child (a DataLoader
# worker) starts without it.
_guarded_in_process = False


def _forget_guard_in_child() -> None:
    global _guarded_in_process
    _guarded_in_process = False


os.register_at_fork(after_in_child=_forget_guard_in_child)


def guard_reads_once_in_process() -> None:
    """guard_reads_in_torch_worker, once per process (a forked or spawned DataLoader worker is a
    new one): for get_batch called from a user's own torch Dataset in a worker."""
    global _guarded_in_process
    if not _guarded_in_process:
        _guarded_in_process = True
        guard_reads_in_torch_worker()


def guard_reads_in_torch_worker() -> None:
    """In a torch DataLoader worker process, puts the handler that turns a bus error in a mapped
    read (of the FASTA's bases, or of a bigWig's blocks, inflated where they lie in its mapping)
    into the reader's error back in front of torch's own, which the worker installs
    after ours and which ends the process on any bus error ("killed by signal: Bus error", no
    file named). Elsewhere it does nothing. Called by the datasets as an iteration starts."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.utils.data.get_worker_info() is not None:
        _core.reclaim_fault_handler()


class ReferenceGenome:
    """An indexed FASTA file. Uses ``<path>.fai`` when present and current, else builds the
    index with one scan (and writes it beside the FASTA when it can). Wrapped and one-line
    FASTA alike; soft-masked (lowercase) bases are read as stored. Bases are read from a memory
    map of the file (its pages touched count in the process's resident memory, once per file:
    genomes of one unchanged file share their reader). A URL (``s3://``, ``https://``, ...) is
    fetched once into a local cache, checked against the object's ETag (remote.local_copy)."""

    def __init__(self, path: str | os.PathLike[str], storage_options: dict | None = None) -> None:
        self.path = os.fspath(path)
        local = self.path
        if remote.is_url(self.path):
            # Fetched once into a local cache (again only when the object changes), then mapped.
            local = str(remote.local_copy(self.path, storage_options))
        self._fasta = _reader(local)
        self.chrom_sizes: dict[str, int] = dict(self._fasta.records)

    def fetch(self, chromosomes: Sequence[str], starts: Sequence[int] | np.ndarray, length: int) -> np.ndarray:
        """uint8 array (batch, length): bases [start, start + length) of each chromosome.
        KeyError for an unknown sequence name, ValueError for a range outside it."""
        return self._fasta.fetch_batch(list(chromosomes), np.asarray(starts, dtype=np.int64), int(length))

    def record_ids(self, chromosomes: Sequence[str] | np.ndarray) -> np.ndarray:
        """The FASTA record id (int64, the order of the .fai) of each name, as fetch_usable_records
        takes them. KeyError naming the chromosomes the FASTA lacks. Per distinct name, in Python."""
        names = np.asarray(chromosomes)
        distinct, inverse = np.unique(names, return_inverse=True)
        ids = np.array([self._fasta.record_id(str(c)) for c in distinct], dtype=np.int64)
        if (ids < 0).any():
            raise KeyError(f"chromosomes {sorted(str(c) for c in distinct[ids < 0])} are not in {self.path}")
        return ids[inverse.reshape(-1)]

    def fetch_usable(
        self,
        chromosomes: Sequence[str] | np.ndarray,
        starts: np.ndarray,
        length: int,
        maximum_unknown_bases_fraction: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The windows fit to train on: those lying inside their chromosome with at most
        `maximum_unknown_bases_fraction` bases other than A, C, G, T (either case). Returns
        their indices into the arguments and their bases (uint8 rows), read in one C++ call.
        KeyError for a chromosome the FASTA lacks."""
        return self.fetch_usable_records(self.record_ids(chromosomes), starts, length, maximum_unknown_bases_fraction)

    def fetch_usable_records(
        self, records: np.ndarray, starts: np.ndarray, length: int, maximum_unknown_bases_fraction: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """fetch_usable with the chromosomes as record ids (record_ids): what a dataset's feeder
        calls per draw, with no per-window Python."""
        return self._fasta.fetch_usable(
            np.asarray(records, dtype=np.int64),
            np.asarray(starts, dtype=np.int64),
            int(length),
            float(maximum_unknown_bases_fraction),
        )

    def sequence(self, chromosome: str, start: int, end: int) -> str:
        return self.fetch([chromosome], [start], end - start)[0].tobytes().decode("ascii")


def one_hot(bases: np.ndarray, dtype: str = "float32"):
    """One-hot encode a uint8 array of bases (batch, length) into a (batch, length, 4) tensor,
    channels A, C, G, T: A/C/G/T one channel 1; R, Y, K, M, S, W two halves; B, D, H, V three
    channels 0.333; N four quarters; lowercase like uppercase; other bytes all zeros. dtype
    "float32", "bfloat16" or "uint8" (hard one-hot: 1 only for A, C, G, T)."""
    return _core.one_hot(np.ascontiguousarray(bases, dtype=np.uint8), dtype)


def unknown_fraction(bases: np.ndarray) -> np.ndarray:
    """Fraction of each row's bases that are not A, C, G or T (either case)."""
    bases = np.ascontiguousarray(bases, dtype=np.uint8)
    return _core.count_unknown(bases) / max(bases.shape[1], 1)

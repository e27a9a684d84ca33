"""`BigWigCollection`: many bigWig files read together, a batch of windows at a time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bigwig_loader import _arguments, _core, remote
from bigwig_loader.arrays import user_array
from bigwig_loader.cache import CacheInfo, cache_info_of, check_cache_bytes
from bigwig_loader.cache import preload as _preload
from bigwig_loader.device import CPU, resolve_device
from bigwig_loader.genome import guard_reads_once_in_process
from bigwig_loader.intervals import collection_intervals
from bigwig_loader.chromosomes import STANDARD_CHROMOSOMES
from bigwig_loader.compat03.path import interpret_path  # noqa: F401 - 0.3's bigwig_loader.collection.interpret_path
from bigwig_loader.paths import DEFAULT_EXTENSIONS, PathLike, find_bigwig_files, match_scale_factors


def check_value_dtype(dtype: str) -> str:
    """The dtypes track values come in ("float32", "bfloat16"); ValueError for any other, before
    any thread starts. The C++ request's own check, asked early."""
    return _core.value_dtype(str(dtype))


class BigWigCollection:
    """Many bigWig files, read together: for a batch of genomic windows, every track in one call.

    Args:
        bigwig_path: a file, a directory (searched recursively when `crawl`), or a list of
            either. Files are sorted by path; track ``i`` is ``bigwig_paths[i]``.
        file_extensions: what counts as a bigWig in a directory.
        crawl: search directories recursively.
        scale: ``{key: factor}``; a key names files by full path, by a trailing part of the
            path with or without extension (``"ENCFF1234"``, ``"liver/ENCFF1234.bigWig"``), or
            by a parent directory name (every file under it). Unmatched files get 1.
        first_n_files: keep only the first n files (after sorting).
        n_threads: CPU threads for opening files and for each ``get_batch`` (default: the CPUs
            this process may use).
        pinned_memory_size: bytes of pinned host (and device) staging each GPU backend of this
            collection allocates up front; it grows when a batch needs more (0.3's parameter).
        cache_bytes: bound of the cache of decoded blocks, shared by every ``get_batch``, loader
            worker and epoch (default: an eighth of memory, at most 4 GiB; 0: no cache). See
            :meth:`cache_info` and :meth:`preload`.
        storage_options: for URLs (``s3://``, ``gs://``, ``az://``, ``http(s)://``; the
            ``remote`` extra): credentials and endpoint in fsspec's names (``key``, ``secret``,
            ``token``, ``endpoint_url``, ``anon``, ``client_kwargs``) or obstore's, plus
            ``timeout``, ``attempts`` and ``concurrency``; each cloud's environment variables
            apply where these are silent (bigwig_loader.remote).

    Opening reads only headers and indexes; no data block is inflated until a batch needs it.
    Remote files are opened together, in two concurrent rounds of requests; each batch then
    fetches every block it needs of every remote file in one concurrent round.
    """

    def __init__(
        self,
        bigwig_path: PathLike | Sequence[PathLike],
        file_extensions: Iterable[str] = DEFAULT_EXTENSIONS,
        crawl: bool = True,
        scale: Mapping[str, float] | None = None,
        first_n_files: int | None = None,
        n_threads: int | None = None,
        pinned_memory_size: int = 10_000,
        cache_bytes: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        paths = find_bigwig_files(bigwig_path, file_extensions, crawl, storage_options)
        if first_n_files is not None:
            if first_n_files < 1:
                raise ValueError(f"first_n_files must be at least 1, got {first_n_files}")
            paths = paths[:first_n_files]
        if (
            isinstance(pinned_memory_size, bool)
            or not isinstance(pinned_memory_size, (int, np.integer))
            or pinned_memory_size < 0
        ):
            raise ValueError(f"pinned_memory_size must be a number of bytes >= 0, got {pinned_memory_size!r}")
        self.pinned_memory_size = int(pinned_memory_size)
        threads = 0 if n_threads is None else _arguments.count(n_threads, "n_threads")
        self.bigwig_paths: list[Path] = paths
        # The tracks' names, made once: batches of thousands of tracks pick from them.
        self._track_paths = tuple(paths)
        self._track_stems = tuple(p.stem for p in paths)
        self.scaling_factors = np.asarray(match_scale_factors(paths, scale), dtype=np.float32)
        self.storage_options = storage_options
        self._collection = _open_collection(paths, threads, check_cache_bytes(cache_bytes), storage_options)
        self._threads = threads
        # Device ordinal -> its batch processor (_core.BatchProcessor), made on first use.
        self._processors: dict[int, Any] = {CPU: _core.make_processor(CPU, threads)}
        self._bigwigs: list[Any] | None = None  # `bigwigs`, opened on first use
        self._chromosomes: list[str] = list(self._collection.chrom_names)
        self._chrom_ids = {name: i for i, name in enumerate(self._chromosomes)}
        # batch_request_by_id's track list and unit scales for every track, made once (read-only).
        self._every_track = np.arange(len(self.bigwig_paths), dtype=np.uint32)
        self._unit_scales = np.ones(len(self.bigwig_paths), dtype=np.float32)
        self._every_track.flags.writeable = self._unit_scales.flags.writeable = False

    def __len__(self) -> int:
        return len(self.bigwig_paths)

    @property
    def bigwigs(self) -> list[Any]:
        """One :class:`bigwig_loader.BigWig` per track, in track order (as in 0.3), each with
        ``path``, ``id`` (its track index) and ``scale`` (its scale factor). Opened on first use."""
        if self._bigwigs is None:
            from bigwig_loader.bigwig import BigWig

            bigwigs = []
            for i, (path, factor) in enumerate(zip(self.bigwig_paths, self.scaling_factors)):
                bigwig = BigWig(path, self.storage_options)
                bigwig.id, bigwig.scale = i, float(factor)
                bigwigs.append(bigwig)
            self._bigwigs = bigwigs
        return self._bigwigs

    def reset_gpu(self) -> None:
        """Releases this collection's GPU backends: their device memory, pinned staging and
        CUDA streams (recreated on the current device at the next GPU batch), e.g. before the
        process moves to another GPU. Arrays already handed out stay valid. With no GPU backend
        in use (the CPU only) there is nothing to release and it does nothing."""
        gpu = [ordinal for ordinal in self._processors if ordinal != CPU]
        for ordinal in gpu:  # the last references: each processor frees its memory and stream now
            del self._processors[ordinal]

    @property
    def track_names(self) -> list[str]:
        """One name per track: the file name without its extension."""
        return self.track_names_of()

    def track_names_of(self, track_indices: Iterable[int] | None = None, *, as_paths: bool = False) -> list[Any]:
        """The names of the tracks ``track_indices`` (default: every track), in that order: each
        file's name without its extension, or with ``as_paths`` its path (what the datasets'
        batches carry, as in 0.3). A new list each call, costing the tracks selected: the one
        place track names are made."""
        names = self._track_paths if as_paths else self._track_stems
        if track_indices is None:
            return list(names)
        return [names[i] for i in track_indices]

    @property
    def chromosomes(self) -> list[str]:
        """Every chromosome any file has: chr1..chr22, chrX, chrY, chrM, then the others in
        natural order."""
        return list(self._chromosomes)

    @property
    def chrom_sizes(self) -> dict[str, int]:
        """Chromosome -> the largest size any file gives it."""
        return dict(zip(self._chromosomes, (int(s) for s in self._collection.chrom_sizes)))

    @property
    def n_threads(self) -> int:
        return int(self._processors[CPU].n_threads)

    @property
    def core_collection(self) -> Any:
        """The C++ collection (``_core.Collection``) that processors and loaders read."""
        return self._collection

    @property
    def cache_bytes(self) -> int:
        """The bound of the cache of decoded blocks (0: off). Setting it evicts down to it. This
        property (and the constructor) is where the bound is set: the datasets' and the loader's
        ``cache_bytes`` arguments, kept for 0.3, set it here, on the collection they share."""
        return self.cache_info().max_bytes

    @cache_bytes.setter
    def cache_bytes(self, value: int | None) -> None:
        self._collection.set_cache_bytes(check_cache_bytes(value))

    def cache_info(self) -> CacheInfo:
        """(hits, misses, evictions, blocks, bytes, max_bytes) of the cache of decoded blocks."""
        return cache_info_of(self._collection)

    def cache_clear(self) -> None:
        """Drops every cached block (the counters stay)."""
        self._collection.cache_clear()

    def preload(self, regions: Any, progress: bool | None = None) -> CacheInfo:
        """Decodes every block of every track under ``regions`` (a DataFrame with columns
        ``chrom``, ``start``, ``end``) into the cache up front, on ``n_threads`` threads, with a
        progress bar on stderr (``progress``: True always, False never, None, the default, when
        stderr is a terminal). Stops at the cache's bound (never evicting) with a warning that
        says how much of the regions fit. Returns :meth:`cache_info`."""
        return _preload(self, regions, progress=progress)

    def get_chromosomes_present_in_all_files(
        self,
        include_chromosomes: str | Sequence[str] = "all",
        exclude_chromosomes: Sequence[str] | None = None,
    ) -> list[str]:
        """Chromosomes every file has, in table order; ``include_chromosomes`` is "all",
        "standard" (chr1..chr22, chrX, chrY, chrM), one name, or a list of names."""
        present = self._collection.presence().all(axis=0)
        names = [c for c, ok in zip(self._chromosomes, present) if ok]
        return _select_chromosomes(names, include_chromosomes, exclude_chromosomes)

    def get_batch(
        self,
        chromosomes: Sequence[str] | np.ndarray,
        start: Sequence[int] | np.ndarray,
        end: Sequence[int] | np.ndarray,
        window_size: int = 1,
        default_value: float = 0.0,
        out: Any = None,
        *,
        dtype: str = "float32",
        track_indices: Sequence[int] | np.ndarray | None = None,
        scale: bool = True,
        device: Any = None,
    ) -> Any:
        """Values of every track over a batch of windows: ``(batch, (end - start) // window_size,
        n_tracks)``, C-contiguous. The first six arguments are bigwig-loader 0.3's, in its order.

        Returns, without a copy and never overwritten by a later call: on the CPU a numpy array
        (for bfloat16 a ``uint16`` array of the bit patterns, since numpy has no bfloat16:
        ``torch.from_numpy(a).view(torch.bfloat16)`` reinterprets it); on a GPU a CuPy array
        when CuPy is installed (``uint16`` for bfloat16, as in 0.3), else a
        :class:`bigwig_loader.CudaTensor`. Each speaks DLPack. With ``out``, ``out`` itself.

        Coordinates are 0-based, half-open, and every window has the same length. Bases outside
        ``[0, size of the chromosome in that file)``, and every base of a chromosome a file
        lacks, read as ``default_value``. With ``window_size > 1`` each output cell averages
        ``window_size`` bases (partial last cell dropped): with a NaN default the mean of the
        covered bases, otherwise ``(sum of covered + uncovered * default) / window_size``.
        Values stored as NaN stay NaN.

        Scaling (``scale=True`` and a ``scale`` given at construction) multiplies stored values
        only: ``default_value`` is never scaled.

        Args:
            dtype: "float32" or "bfloat16" (rounded to nearest even).
            track_indices: which tracks, in which order (default: all, in file order).
            out: a writable C-contiguous DLPack array (numpy, torch, ...) of the right shape
                and dtype (bfloat16: torch's), filled in place and returned (CPU only).
            device: "cpu", "cuda" or "cuda:N" (default: bigwig_loader.default_device(): the
                process's CUDA device when a GPU is available, else "cpu"). On a GPU the values
                are the same bit for bit; ``torch.from_dlpack`` / ``cupy.from_dlpack`` take them
                without a copy, their stream waiting for the batch's kernels.

        Raises KeyError for a chromosome no file has, ValueError for unequal or empty windows
        or mismatched argument lengths, TypeError for non-integer coordinates, DeviceError when
        a GPU is asked for and none can be used.
        """
        ordinal = resolve_device(device)
        guard_reads_once_in_process()  # a user's own Dataset in a torch DataLoader worker
        processor = self.processor(ordinal)
        if out is None and track_indices is None and type(dtype) is str and dtype == "float32":
            # The usual arguments read in C++ in one call (a batch of one window warm from the
            # cache: 10 us -> 4 us), on the host returned as the numpy array itself; None when
            # one is of another type, converted below.
            values = processor.load_plain(
                self._collection,
                chromosomes,
                start,
                end,
                window_size,
                default_value,
                self._every_track,
                self._scales_of_every_track(scale),
            )
            if values is not None:
                return values if type(values) is np.ndarray else user_array(values)
        request = self.batch_request(
            chromosomes, start, end, window_size, default_value, dtype=dtype, track_indices=track_indices, scale=scale
        )
        return user_array(processor.load(self._collection, request, out))

    def processor(self, ordinal: int) -> Any:
        """The batch processor (``_core.BatchProcessor``) of a device ordinal from
        :func:`bigwig_loader.device.resolve_device`, made on first use and kept: on a GPU it
        holds its own stream, pinned staging and device scratch until :meth:`reset_gpu`."""
        processor = self._processors.get(ordinal)
        if processor is None:
            processor = self._processors.setdefault(
                ordinal, _core.make_processor(ordinal, self._threads, self.pinned_memory_size)
            )
        return processor

    def batch_request(
        self,
        chromosomes: Sequence[str] | np.ndarray,
        starts: Sequence[int] | np.ndarray,
        ends: Sequence[int] | np.ndarray,
        window_size: int = 1,
        default_value: float = 0.0,
        **settings: Any,
    ) -> Any:
        """One batch as the processors and the loader take it (``_core.BatchRequest``), from
        get_batch's arguments: converted here (names to ids, coordinates to int64, naming the
        argument a value that does not convert), checked once by the C++ request (the windows, the
        tracks, against the collection). ``settings`` are :meth:`batch_request_by_id`'s: dtype,
        track_indices, scale, and the augmentations of a training batch."""
        return self.batch_request_by_id(
            self.chromosome_ids(chromosomes),
            _arguments.coordinates(starts, "start"),  # named as get_batch names them
            _arguments.coordinates(ends, "end"),
            window_size,
            _arguments.real_number(default_value, "default_value"),
            **settings,
        )

    def batch_request_by_id(
        self,
        chromosome_ids: np.ndarray,
        starts: np.ndarray,
        ends: np.ndarray,
        window_size: int,
        default_value: float,
        *,
        dtype: str = "float32",
        track_indices: Sequence[int] | np.ndarray | None = None,
        scale: bool = True,
        **augmentations: Any,
    ) -> Any:
        """The one place Python makes a ``_core.BatchRequest`` (which checks the windows and the
        rest against the collection). batch_request's arguments already in the core's types: the
        chromosomes as the ids chromosome_ids() gives, starts and ends int64 arrays; for a caller
        that makes many batches (a dataset's feeder), with no per-batch conversion of names.
        ``dtype``: "float32" or "bfloat16"; ``track_indices``: which tracks, in which order
        (default: all); ``scale``: apply the collection's scale factors; ``augmentations``
        (smoothing, flip, flip_tracks, bases, sequence_dtype): the rest of a training batch, made
        in the loader's workers, see ``_core.BatchRequest``."""
        ids = np.asarray(chromosome_ids)
        if ids.ndim != 1 or (
            ids.size
            and (
                ids.dtype.kind not in "iu"
                or (ids.dtype.kind == "i" and ids.min() < 0)
                or (ids.dtype.itemsize > 4 and ids.max() > _arguments.UINT32_MAX)  # would wrap to uint32
            )
        ):
            raise ValueError("chromosome_ids must be a 1-dimensional array of the ids chromosome_ids() gives")
        if track_indices is None:  # every track: no per-batch index or gather (a small batch's Python time)
            tracks = self._every_track
            scales = self._scales_of_every_track(scale)
        else:
            tracks = self._track_indices(track_indices).astype(np.uint32)
            scales = self.scaling_factors[tracks] if scale else np.ones(len(tracks), dtype=np.float32)
        return _core.BatchRequest(
            self._collection,
            ids,
            starts,
            ends,
            _arguments.window_size(window_size),
            default_value,
            str(dtype),
            tracks,
            scales,
            **augmentations,
        )

    def _scales_of_every_track(self, scale: Any) -> np.ndarray:
        """The float32 scale factor of each track in file order: the collection's with ``scale``
        true, else ones."""
        return np.asarray(self.scaling_factors, dtype=np.float32) if scale else self._unit_scales

    def intervals(
        self,
        include_chromosomes: str | Sequence[str] = "all",
        exclude_chromosomes: Sequence[str] | None = None,
        blacklist: Any = None,
        blacklist_buffer: int = 0,
        padding: int = 0,
        merge: bool = False,
        threshold: float | None = 0.0,
        merge_allow_gap: int = 0,
        batch_size: int = 4096,
    ):
        """The stored intervals of every file as a pandas DataFrame ``chrom, start, end, value``
        (values scaled by the collection's ``scale``), to build regions of interest. See
        :func:`bigwig_loader.intervals.collection_intervals`. ``batch_size`` is 0.3's number of
        intervals decoded per GPU step; it is accepted and checked for compatibility, and does
        not change the result (here each file's intervals are read per chromosome)."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        chroms = _select_chromosomes(self._chromosomes, include_chromosomes, exclude_chromosomes)
        return collection_intervals(
            self._collection,
            chroms,
            self.chrom_sizes,
            blacklist=blacklist,
            blacklist_buffer=blacklist_buffer,
            padding=padding,
            merge=merge,
            threshold=threshold,
            merge_allow_gap=merge_allow_gap,
            scaling_factors=self.scaling_factors,
        )

    def __repr__(self) -> str:
        return f"BigWigCollection({len(self)} files, {len(self._chromosomes)} chromosomes)"

    # --- argument checking -------------------------------------------------------------------

    def chromosome_ids(self, chromosomes: Sequence[str] | np.ndarray) -> np.ndarray:
        """The collection's chromosome id (uint32) of each name, as the core takes them; KeyError
        for a name no file has, TypeError or ValueError (as _arguments.chromosome_names says) for
        what is not a sequence of names."""
        # The common case first, one dict lookup a window (a batch of one window spent 9 us in
        # np.unique here, a third of its Python time): every item a name some file has, hence a
        # str without NUL. Anything else (an unknown name, a non-str, a NUL) takes the checks.
        if isinstance(chromosomes, np.ndarray) and chromosomes.ndim == 1 and chromosomes.dtype.kind == "U":
            if chromosomes.size > 64:  # in C++, no str an item (50,000 names: 4 ms -> under 1 ms)
                ids = self._collection.chrom_ids_of_names(chromosomes)
                if ids is not None:
                    return ids
        if isinstance(chromosomes, (list, tuple)) or (
            isinstance(chromosomes, np.ndarray) and chromosomes.ndim == 1 and chromosomes.dtype.kind in "UO"
        ):
            items = chromosomes.tolist() if isinstance(chromosomes, np.ndarray) else chromosomes
            try:
                return np.fromiter(map(self._chrom_ids.__getitem__, items), dtype=np.uint32, count=len(items))
            except (KeyError, TypeError):
                pass
        _arguments.chromosome_names(chromosomes)
        names = np.asarray(chromosomes)
        if names.ndim != 1:
            raise ValueError("chromosomes must be a 1-dimensional sequence of names")
        if names.size and names.dtype.kind not in "UO":
            raise TypeError(f"chromosomes must be names (str), got {names.dtype}")
        unique, inverse = np.unique(names, return_inverse=True)
        ids = np.empty(len(unique), dtype=np.uint32)
        for i, name in enumerate(unique):  # once per distinct chromosome, not per window
            found = self._chrom_ids.get(str(name))
            if found is None:
                raise KeyError(f"chromosome {str(name)!r} is in none of the {len(self)} files")
            ids[i] = found
        return ids[inverse.reshape(-1)]

    def find_chromosome(self, name: str) -> int:
        """The collection's id of one chromosome name, or -1 when no file has it."""
        return self._chrom_ids.get(name, -1)

    def _track_indices(self, track_indices: Sequence[int] | np.ndarray | None) -> np.ndarray:
        if track_indices is None:
            return np.arange(len(self), dtype=np.int64)
        tracks = np.asarray(track_indices)
        if tracks.ndim != 1 or (tracks.size and tracks.dtype.kind not in "iu"):
            raise TypeError("track_indices must be a 1-dimensional sequence of integers")
        if tracks.size == 0:
            raise ValueError("track_indices must select at least one track")
        if np.any(tracks < 0) or np.any(tracks >= len(self)):
            raise ValueError(f"track_indices must lie in [0, {len(self)})")
        return tracks.astype(np.int64)


def _select_chromosomes(names: Sequence[str], include: str | Sequence[str], exclude: Sequence[str] | None) -> list[str]:
    if isinstance(include, str):
        if include == "all":
            selected = list(names)
        elif include == "standard":
            selected = [c for c in names if c in STANDARD_CHROMOSOMES]
        else:  # a single chromosome name
            selected = [c for c in names if c == include]
    else:
        wanted = set(include)
        selected = [c for c in names if c in wanted]
    excluded = set(exclude or ())
    return [c for c in selected if c not in excluded]


def _open_collection(paths: Sequence[Path], threads: int, cache_bytes: int, storage_options: Any) -> Any:
    """The C++ collection of `paths`: local files opened by the core, remote ones
    (remote.RemoteUrl) first fetched by remote.open_objects, all at once."""
    urls = [i for i, p in enumerate(paths) if isinstance(p, remote.RemoteUrl)]
    if not urls:
        return _core.Collection([str(p) for p in paths], threads, cache_bytes)
    sources: list[Any] = [None] * len(paths)
    for i, source in zip(urls, remote.open_objects([str(paths[i]) for i in urls], storage_options)):
        sources[i] = source
    collection = _core.Collection([str(p) for p in paths], threads, cache_bytes, sources)
    for i in urls:
        sources[i].release_kept()  # what the opens read is parsed
    return collection

"""`BigWigDataset`: an iterable of (sequences, values) batches for training, read on the fly."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from bigwig_loader import _arguments, _dataset_checks
from bigwig_loader.arrays import user_array
from bigwig_loader.batch import Batch
from bigwig_loader.collection import BigWigCollection, check_value_dtype
from bigwig_loader.device import CPU, device_name, resolve_device
from bigwig_loader.distributed import rank_and_world_size
from bigwig_loader.genome import ReferenceGenome, guard_reads_in_torch_worker
from bigwig_loader.paths import DEFAULT_EXTENSIONS
from bigwig_loader.sampler.position_sampler import RandomPositionSampler
from bigwig_loader.sampler.track_sampler import TrackSampler
from bigwig_loader.streamed_dataloader import StreamedDataloader

# The complement of every letter the one-hot encoding knows (IUPAC codes and lowercase too), for
# reverse-complemented windows handed to a sequence encoder other than one-hot. One-hot
# sequences are reverse-complemented by the workers instead (the one-hot of the complemented,
# reversed bases is the one-hot of the bases reversed with its channels A, C, G, T reversed, bit
# for bit: engine/batch_processor.cpp).
_COMPLEMENT_BYTES = np.arange(256, dtype=np.uint8)
_COMPLEMENT_BYTES[np.frombuffer(b"ACGTRYKMBDHVacgtrykmbdhv", np.uint8)] = np.frombuffer(
    b"TGCAYRMKVHDBtgcayrmkvhdb", np.uint8
)
# Centres drawn and checked against the FASTA per step when assembling super-batches (those
# left over wait for the next one): the per-draw Python is paid once for several small batches.
_DRAW = 512


class BigWigDataset:
    """Batches of one-hot DNA and track values over random windows of the regions of interest,
    read from the FASTA and the bigWig files on the fly.

    Each window is drawn as a centre; its sequence is ``[centre - sequence_length // 2,
    + sequence_length)`` of the FASTA and its values ``[centre - center_bin_to_predict // 2,
    + center_bin_to_predict)`` of every track, averaged ``window_size`` bases to a cell. Every
    argument is checked at construction: a TypeError (wrong kind of value) or ValueError (out of
    range) names it. bigwig-loader 0.3's parameters keep their names, order and defaults. The
    same list, with every other public class's, is in docs/REFERENCE.md.

    Args:
        regions_of_interest: a pandas DataFrame with columns ``chrom``, ``start``, ``end`` (not
            modified): window centres are drawn uniformly over all their bases (a region's
            weight is its length). Every chromosome must be in the FASTA and in at least one
            file of the collection (a chromosome that some files lack reads as
            ``default_value`` for those tracks), no region may lie wholly outside its
            chromosome, and some window of ``sequence_length`` must fit in some region's
            chromosome. With a ``custom_position_sampler`` it only sizes the epoch
            (``batches_per_epoch``).
        collection: a :class:`BigWigCollection`, or what one is made from: a bigWig file, a
            directory (searched for ``file_extensions``), or a list of either. Track ``i`` is
            the collection's ``bigwig_paths[i]``.
        reference_genome_path: the FASTA of the genome (read through
            :class:`ReferenceGenome`; its ``.fai`` is built when missing or stale).
        sequence_length: bases of each window's sequence (default 1000).
        center_bin_to_predict: bases of each window's values, centred on the same centre as the
            sequence; at most ``sequence_length`` (default None: ``sequence_length``).
        window_size: bases averaged into one value cell (default 1); must divide
            ``center_bin_to_predict`` (a remainder would be a partial cell, dropped). Values
            have ``center_bin_to_predict // window_size`` cells.
        moving_average_window_size: smooths the values along the length axis: each cell
            becomes the mean of the ``moving_average_window_size`` cells around it, clipped at
            the window's ends, in float32; NaN propagates (default 1: no smoothing).
        batch_size: windows in each yielded batch (default 256).
        super_batch_size: windows drawn and loaded at a time, then cut into batches of
            ``batch_size`` (the remainder dropped); the batches of one super-batch share their
            sub-sampled tracks. None (the default) is ``batch_size``; else at least
            ``batch_size``.
        batches_per_epoch: batches each rank yields per iteration (default None:
            total bases of the regions // sequence_length // batch_size // world_size, and a
            ValueError when that is 0).
        maximum_unknown_bases_fraction: a window whose sequence has more than this fraction of
            bases other than A, C, G, T (either case), or that reaches outside its chromosome,
            is drawn again (default 0.1; a number in [0, 1]). After 100,000 unusable windows in
            a row iteration raises a ValueError saying why.
        sequence_encoder: ``"onehot"`` (the default): ``(batch, sequence_length, 4)`` arrays,
            channels A, C, G, T (ambiguity codes share their weight; N is four quarters), of
            ``sequence_dtype``; None: a list of the sequences as strings, as stored (soft-masked
            lowercase kept); a callable: called with that list, its result yielded.
        file_extensions: what counts as a bigWig in a directory given as ``collection``
            (default ``(".bigWig", ".bw")``). Ignored when ``collection`` is a
            BigWigCollection, as are ``crawl``, ``scale`` and ``first_n_files``.
        crawl: search directories recursively (default True).
        scale: ``{key: factor}`` multiplying each matching file's stored values (never
            ``default_value``); keys as in :class:`BigWigCollection` (default None: 1 for all).
        default_value: the value of bases without data (default 0.0); NaN makes a cell the mean
            of its covered bases only.
        first_n_files: keep only the first n files, in path order (default None: all).
        position_sampler_buffer_size: centres the dataset's sampler draws at a time, and with
            ``repeat_same_positions`` the fixed set repeated (default 100,000).
        repeat_same_positions: every epoch draws its centres from the same buffer of
            ``position_sampler_buffer_size`` centres, in the same order, as 0.3 does (a fixed
            validation set; jitter, strand and track draws still follow the epoch; default
            False).
        sub_sample_tracks: k: each super-batch reads k tracks drawn at random, without
            replacement, sorted (default None: every track). Batches then come with their track
            indices and names.
        n_threads: loader worker threads, which read the values and one-hot encode the
            sequences (default 4).
        custom_position_sampler: an iterable of ``(chromosome, centre)`` pairs replacing the
            draw over the regions (default None); ``iter()`` is called on it each epoch, windows
            that are unusable (see ``maximum_unknown_bases_fraction``) are skipped, and the epoch
            ends early when it runs out. Its windows are not known in advance: one on a
            chromosome no file has raises the collection's KeyError when its batch is read.
        custom_track_sampler: an iterable of track-index lists, one taken per super-batch
            (default None); it takes the place of ``sub_sample_tracks``.
        return_batch_objects: yield :class:`Batch` objects instead of tuples (default False).
        dtype: the values' dtype, ``"float32"`` (the default) or ``"bfloat16"`` (rounded to
            nearest even).
        seed: a non-negative integer seeding every random choice (positions, tracks, jitter,
            strand); None (the default) draws fresh entropy once, at construction.
        jitter: a non-negative integer: shift each window by a uniform random number of bases
            in [-jitter, jitter], sequence and values alike (default 0).
        reverse_complement: with probability 0.5 per window, reverse-complement the sequence
            and flip the values along the length axis (default False).
        strand_pairs: ``[(i, j), ...]``: track indices swapped in flipped windows (e.g. the +
            and - strand of one assay); each track in one pair at most (default None).
        rank: this process's rank (default None: from torch.distributed when it is initialised,
            else 0). Ranks draw disjoint windows: rank r takes every world_size-th centre of the
            epoch's shared stream, starting at r.
        world_size: the number of ranks (default None: from torch.distributed, else 1).
        queue_size: batches loaded ahead at most (memory: that many batches of sequences and
            values, on the device when it is a GPU); None (the default): max(8, n_threads), so
            that every worker can have a batch and the feeder thread, which forms them, can be
            descheduled for a few batches' time without the workers running dry (with 4 instead
            of 8 a 2-CPU machine loses ~10%; 16 gained nothing over 8 there).
        device: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``: where values are read and batches are
            handed out (default None: ``bigwig_loader.default_device()``, the process's CUDA
            device when a GPU is available, else ``"cpu"``).
        sequence_dtype: ``"float32"`` (the default, as in 0.3) or ``"bfloat16"``: the one-hot
            sequences' dtype. ``dtype`` applies to the values only.
        cache_bytes: bound of the collection's cache of decoded blocks (see
            ``BigWigCollection``); None (the default) keeps a given collection's bound, or gives
            a new one the default; 0 turns it off. Kept for 0.3: given with a
            ``BigWigCollection``, it sets that collection's ``cache_bytes``, a bound shared by
            everything reading that collection. From the second epoch on, regions that fit
            are read from it.
        storage_options: for tracks and a reference genome given as URLs (``s3://``, ``gs://``,
            ``az://``, ``http(s)://``): credentials, endpoint and request settings, as
            ``BigWigCollection`` takes them. The genome is fetched once into a local cache.

    Each iteration is an epoch and draws new windows: the first is epoch 0 and each new
    iteration advances by one, unless ``set_epoch(n)`` pins the next iteration to epoch n (the
    same windows for the same seed and n, as DDP needs). ``len(dataset)`` is
    ``batches_per_epoch``.

    Yields ``(sequences, values)``, or ``(sequences, values, track_indices, track_names)`` when
    tracks are sub-sampled, or :class:`Batch` objects with ``return_batch_objects``;
    ``track_names`` are the tracks' paths (all of them when tracks are not sub-sampled). On the
    CPU, sequences ``(batch, sequence_length, 4)`` and values ``(batch, center_bin_to_predict
    // window_size, n_tracks)`` are numpy arrays (bfloat16 as ``uint16`` bit patterns, numpy
    having no bfloat16). On a GPU they are CuPy arrays in device memory, as bigwig-loader 0.3
    yields them (install CuPy: README, "Install"; bfloat16 as ``uint16``, as in 0.3). No
    array is overwritten by a later batch.
    """

    #: Hand out the loader's own tensors (``bigwig_loader.Tensor``, or ``CudaTensor`` on a GPU;
    #: DLPack) instead of numpy / CuPy arrays: what a subclass sets when it takes them with
    #: ``from_dlpack`` itself (PytorchBigWigDataset's dataset: torch needs no CuPy).
    yields_tensors: bool = False

    def __init__(
        self,
        regions_of_interest,
        collection: BigWigCollection | str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        reference_genome_path: str | os.PathLike[str],
        sequence_length: int = 1000,
        center_bin_to_predict: int | None = None,
        window_size: int = 1,
        moving_average_window_size: int = 1,
        batch_size: int = 256,
        super_batch_size: int | None = None,
        batches_per_epoch: int | None = None,
        maximum_unknown_bases_fraction: float = 0.1,
        sequence_encoder: str | Callable[[list[str]], Any] | None = "onehot",
        file_extensions: Sequence[str] = DEFAULT_EXTENSIONS,
        crawl: bool = True,
        scale: dict[str, float] | None = None,
        default_value: float = 0.0,
        first_n_files: int | None = None,
        position_sampler_buffer_size: int = 100_000,
        repeat_same_positions: bool = False,
        sub_sample_tracks: int | None = None,
        n_threads: int = 4,
        custom_position_sampler: Iterable[tuple[str, int]] | None = None,
        custom_track_sampler: Iterable[list[int]] | None = None,
        return_batch_objects: bool = False,
        dtype: str = "float32",
        seed: int | None = None,
        jitter: int = 0,
        reverse_complement: bool = False,
        strand_pairs: Sequence[tuple[int, int]] | None = None,
        rank: int | None = None,
        world_size: int | None = None,
        queue_size: int | None = None,
        device: Any = None,
        sequence_dtype: str = "float32",
        cache_bytes: int | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        # In the order of the checks: each part checks and keeps its own arguments.
        self.collection = _collection_of(
            collection, cache_bytes, file_extensions, crawl, scale, first_n_files, storage_options
        )
        self.genome = ReferenceGenome(reference_genome_path, storage_options)
        self.regions_of_interest = _dataset_checks.check_regions(regions_of_interest).copy()
        self._set_shape(sequence_length, center_bin_to_predict, window_size, moving_average_window_size)
        self._set_batch_sizes(batch_size, super_batch_size)
        self._set_outputs(sequence_encoder, dtype, sequence_dtype, default_value)
        self._set_position_draws(
            regions_of_interest,
            maximum_unknown_bases_fraction,
            custom_position_sampler,
            position_sampler_buffer_size,
            repeat_same_positions,
        )
        self.n_threads = _arguments.count(n_threads, "n_threads")
        self.queue_size = max(8, self.n_threads) if queue_size is None else _arguments.count(queue_size, "queue_size")
        self.return_batch_objects = return_batch_objects
        self._set_augmentations(jitter, reverse_complement, strand_pairs)
        self._ordinal = resolve_device(device)
        self.device = device_name(self._ordinal)
        self.rank, self.world_size = rank_and_world_size(rank, world_size)
        self.seed = int(np.random.SeedSequence().entropy) if seed is None else _arguments.integer(seed, "seed", 0)
        self.epoch = 0  # the epoch of the next iteration
        self._epoch_pinned = False
        self.custom_track_sampler = custom_track_sampler
        self.sub_sample_tracks = (
            None
            if sub_sample_tracks is None
            else _arguments.integer(sub_sample_tracks, "sub_sample_tracks", 1, len(self.collection))
        )
        self.batches_per_epoch = self._epoch_length(regions_of_interest, batches_per_epoch)

    # --- construction, part by part ----------------------------------------------------------

    def _set_shape(self, sequence_length, center_bin_to_predict, window_size, moving_average_window_size) -> None:
        """A window's bases, its values' bases, cells and smoothing."""
        self.sequence_length = _positive(sequence_length, "sequence_length")
        self.center_bin_to_predict = _positive(
            sequence_length if center_bin_to_predict is None else center_bin_to_predict, "center_bin_to_predict"
        )
        if self.center_bin_to_predict > self.sequence_length:
            raise ValueError("center_bin_to_predict must not exceed sequence_length")
        self.window_size = _dataset_checks.check_window_size(window_size, self.center_bin_to_predict)
        self.moving_average_window_size = _positive(moving_average_window_size, "moving_average_window_size")

    def _set_batch_sizes(self, batch_size, super_batch_size) -> None:
        self.batch_size = _positive(batch_size, "batch_size")
        self.super_batch_size = _dataset_checks.check_super_batch_size(super_batch_size, self.batch_size)

    def _set_outputs(self, sequence_encoder, dtype, sequence_dtype, default_value) -> None:
        """What the batches hold: the sequences' encoding and dtype, the values' dtype and default."""
        if sequence_encoder not in ("onehot", None) and not callable(sequence_encoder):
            raise ValueError(f'sequence_encoder must be "onehot", None or a callable, got {sequence_encoder!r}')
        self.sequence_encoder = sequence_encoder
        self.dtype = check_value_dtype(dtype)
        if sequence_dtype not in ("float32", "bfloat16"):
            raise ValueError(f'sequence_dtype must be "float32" or "bfloat16", got {sequence_dtype!r}')
        self.sequence_dtype = sequence_dtype
        self.default_value = _arguments.real_number(default_value, "default_value")  # NaN: the mean of covered bases

    def _set_position_draws(
        self, regions, maximum_unknown_bases_fraction, custom_position_sampler, buffer_size, repeat_same_positions
    ) -> None:
        """Where centres come from: the regions' sampler (its tables built once; each epoch draws
        from a copy with its own seed), after the checks that some window can be found there, or
        the custom sampler."""
        self.maximum_unknown_bases_fraction = _dataset_checks.check_unknown_fraction(maximum_unknown_bases_fraction)
        if custom_position_sampler is None:  # the regions are what is drawn from
            _dataset_checks.check_windows_possible(
                regions, self.genome.chrom_sizes, self.sequence_length, self.genome.path
            )
            _dataset_checks.check_regions_tracked(regions, self.collection.find_chromosome, len(self.collection))
        self.position_sampler_buffer_size = _arguments.integer(buffer_size, "position_sampler_buffer_size", 1)
        self.repeat_same_positions = repeat_same_positions
        self._regions_sampler = (
            None
            if custom_position_sampler is not None
            else RandomPositionSampler(
                self.regions_of_interest,
                buffer_size=self.position_sampler_buffer_size,
                repeat_same=repeat_same_positions,
                seed=0,
            )
        )
        self.custom_position_sampler = custom_position_sampler

    def _set_augmentations(self, jitter, reverse_complement, strand_pairs) -> None:
        # Bounded so that a jittered centre stays inside the engine's coordinates.
        self.jitter = _arguments.integer(jitter, "jitter", 0, _arguments.COORDINATE_LIMIT // 2)
        self.reverse_complement = reverse_complement
        self.strand_pairs = _dataset_checks.check_strand_pairs(strand_pairs, len(self.collection))
        # The flip permutation of every batch over all tracks, made once instead of per batch.
        self._all_tracks_flip = np.asarray(self._strand_permutation(list(range(len(self.collection)))), dtype=np.int64)

    def _epoch_length(self, regions, batches_per_epoch) -> int:
        """batches_per_epoch, or by default as many as the regions' bases make on each rank."""
        if batches_per_epoch is None:
            total = int((regions["end"] - regions["start"]).sum())
            batches_per_epoch = total // self.sequence_length // self.batch_size // self.world_size
            if batches_per_epoch < 1:
                raise ValueError(
                    f"the regions of interest ({total} bases) are too small for one batch of {self.batch_size} "
                    f"windows of {self.sequence_length} bases per rank ({self.world_size} ranks): "
                    "pass batches_per_epoch"
                )
        return _positive(batches_per_epoch, "batches_per_epoch")

    def set_epoch(self, epoch: int) -> None:
        """Pins the next iteration to epoch `epoch` (as DistributedSampler does); the ones after
        it carry on from there."""
        self.epoch = int(epoch)
        self._epoch_pinned = True  # DataLoader workers, copies of this dataset, need it (pytorch.py)

    @property
    def bigwig_collection(self) -> BigWigCollection:
        """The collection read (0.3's name for it)."""
        return self.collection

    def reset_gpu(self) -> None:
        """Releases the collection's GPU memory and streams (see BigWigCollection.reset_gpu);
        each iteration's loader has its own, released when the iteration ends. Nothing to do
        on the CPU."""
        self.collection.reset_gpu()

    def __len__(self) -> int:
        return self.batches_per_epoch

    def __iter__(self) -> Iterator[Any]:
        return self._iterate(_Share(self.rank, self.world_size, self.batches_per_epoch))

    @property
    def epoch_pinned(self) -> bool:
        """Whether set_epoch was ever called: DataLoader workers, copies of this dataset made per
        iteration, see the epoch advance only through it."""
        return self._epoch_pinned

    def iter_worker_share(self, worker: int, workers: int) -> Iterator[Any]:
        """The epoch's batches of DataLoader worker `worker` of `workers` on this rank: every
        world_size * workers-th centre of the epoch's stream, starting at rank * workers + worker
        (so that the workers of all ranks together take each centre once), and this rank's
        batches split among its workers, the first ones taking one more where they do not
        divide. PytorchBigWigDataset iterates this in each worker process."""
        batches, extra = divmod(self.batches_per_epoch, workers)
        return self._iterate(
            _Share(self.rank * workers + worker, self.world_size * workers, batches + (worker < extra))
        )

    def _iterate(self, share: _Share) -> Iterator[Any]:
        # The epoch is taken when iteration is asked for, not at the first batch, so that
        # `set_epoch(n); it = iter(ds); set_epoch(m)` still runs epoch n.
        epoch, self.epoch = self.epoch, self.epoch + 1
        guard_reads_in_torch_worker()
        if self._ordinal != CPU and not self.yields_tensors:
            _import_cupy()
        if share.batches == 0:  # a DataLoader worker beyond the epoch's batch count
            return iter(())
        return self._epoch_batches(epoch, share)

    def _epoch_batches(self, epoch: int, share: _Share) -> Iterator[Any]:
        stop = threading.Event()  # set when this iteration ends: the feeder stops drawing
        queries = self._super_batches(epoch, stop, share)
        loader = StreamedDataloader(
            queries,
            self.collection,
            num_threads=self.n_threads,
            queue_size=self.queue_size,
            slice_size=self.batch_size,
            device=self._ordinal,  # resolved once, here
            batch_request=self._batch_request,
            tensors=True,  # _yielded_item makes them numpy / CuPy arrays, or not (yields_tensors)
        )
        with loader:
            try:
                for batch in itertools.islice(loader, share.batches):
                    yield self._yielded_item(batch)
            finally:
                stop.set()  # before the loader closes, so that its feeder is not left drawing

    # --- building the epoch's queries ------------------------------------------------------

    def _seed_for(self, purpose: str, epoch: int, *extra: int) -> np.random.Generator:
        """A generator for one purpose of one epoch: deterministic from (seed, purpose, epoch, ...)."""
        words = [self.seed, sum(purpose.encode()), epoch, *extra]
        return np.random.default_rng(np.random.SeedSequence(words))

    def _positions(self, epoch: int, share: _Share) -> Callable[[int], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """This share of the epoch's shared stream of centres (a rank's, or a DataLoader worker's),
        as a function that draws the next n (fewer when a custom sampler runs out): (a table of
        chromosome names, each centre's index into it, the centres). The dataset's own sampler
        draws arrays at once against one table; a custom one is iterated."""
        rank, world = share.index, share.of
        if self._regions_sampler is not None:
            # Repeated positions are the same in every epoch (0.3's meaning): epoch 0's buffer.
            position_epoch = 0 if self.repeat_same_positions else epoch
            sampler = self._regions_sampler.with_seed(self._seed_for("positions", position_epoch))
            names = sampler.chromosome_names

            def draw(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
                codes, centres = sampler.take_codes(n * world)  # whole rounds of every rank's turn
                return names, codes[rank::world], centres[rank::world]

            return draw
        mine = itertools.islice(iter(self.custom_position_sampler), rank, None, world)

        def draw_custom(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            drawn = list(itertools.islice(mine, n))
            table, codes = np.unique(np.array([p[0] for p in drawn], dtype=str), return_inverse=True)
            return table, codes.reshape(-1), np.array([p[1] for p in drawn], dtype=np.int64)

        return draw_custom

    def _chromosome_ids(self) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """A function from a table of chromosome names to their FASTA record ids and collection
        ids (-1 for a name no bigWig file has: a batch with it raises the collection's KeyError),
        each name looked up once per epoch."""
        known: dict[str, tuple[int, int]] = {}

        def ids(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            for name in table.tolist():
                if name not in known:
                    record = int(self.genome.record_ids([name])[0])  # KeyError: not in the FASTA
                    known[name] = (record, self.collection.find_chromosome(name))
            pairs = np.array([known[name] for name in table.tolist()], dtype=np.int64).reshape(-1, 2)
            return pairs[:, 0], pairs[:, 1]

        return ids

    def _super_batches(self, epoch: int, stop: threading.Event, share: _Share) -> Iterator[Batch]:
        """Query batches of super_batch_size windows whose sequence lies inside its chromosome
        with few enough unknown bases; sequences are fetched here, in one C++ call per draw (the
        forward strand; complemented here only for an encoder other than one-hot). The flip mask
        goes to the workers in the request (_batch_request), which flip the values, one-hot encode
        the sequences and reverse-complement the flipped ones' one-hot; it is
        also the Batch's ``flipped`` field, so that a consumer of Batch objects knows which
        windows were flipped. Ends when `stop` is set; raises ValueError after too many
        unusable windows in a row."""
        draw_positions = self._positions(epoch, share)
        chromosome_ids = self._chromosome_ids()
        fruitless = _dataset_checks.FruitlessDraws(
            self.sequence_length, self.maximum_unknown_bases_fraction, self.genome.path
        )
        if self.custom_track_sampler is not None:
            track_sampler: Iterator[list[int]] | None = iter(self.custom_track_sampler)
        elif self.sub_sample_tracks is not None:
            track_sampler = TrackSampler(
                len(self.collection), self.sub_sample_tracks, seed=self._seed_for("tracks", epoch)
            )
        else:
            track_sampler = None
        jitter_rng = self._seed_for("jitter", epoch, share.index)
        strand_rng = self._seed_for("strand", epoch, share.index)
        half_sequence = self.sequence_length // 2
        half_target = self.center_bin_to_predict // 2
        n = self.super_batch_size
        # Windows that passed the checks and wait for a super-batch, in the order drawn: every
        # drawn centre is used in order, none is skipped (a fixed custom sampler is walked
        # exactly). Chromosomes are kept as names and as the collection's ids, which the
        # request takes.
        names = np.empty(0, dtype=str)
        ids = np.empty(0, dtype=np.int64)
        centres = np.empty(0, dtype=np.int64)
        bases = np.empty((0, self.sequence_length), dtype=np.uint8)
        exhausted = False
        while True:
            while len(centres) < n and not exhausted:
                if stop.is_set():
                    return
                # The own sampler draws _DRAW at a time (leftovers wait for the next super-batch); a
                # custom one is read no further than this super-batch needs.
                table, codes, centre = draw_positions(_DRAW if self._regions_sampler is not None else min(_DRAW, n))
                exhausted = len(centre) == 0
                if exhausted:
                    break
                if self.jitter:
                    centre = centre + jitter_rng.integers(-self.jitter, self.jitter + 1, len(centre))
                records, collection_ids = chromosome_ids(table)
                idx, seq = self.genome.fetch_usable_records(
                    records[codes], centre - half_sequence, self.sequence_length, self.maximum_unknown_bases_fraction
                )
                fruitless.record(len(centre), len(idx))
                names = np.concatenate([names, table[codes[idx]]])
                ids = np.concatenate([ids, collection_ids[codes[idx]]])
                centres = np.concatenate([centres, centre[idx]])
                bases = np.concatenate([bases, seq])
            if len(centres) < n:
                return
            if (ids[:n] < 0).any():  # a chromosome no bigWig file has: the collection's KeyError
                self.collection.chromosome_ids(names[:n][ids[:n] < 0][:1])
            target_start = centres[:n] - half_target
            tracks = None if track_sampler is None else next(track_sampler)
            flip = strand_rng.random(n) < 0.5 if self.reverse_complement else np.zeros(n, dtype=bool)
            sequences = bases[:n]
            if flip.any() and self.sequence_encoder != "onehot":
                # One-hot sequences are reverse-complemented by the loader's workers (the request's
                # flip); strings for another encoder are complemented here.
                sequences = sequences.copy()
                sequences[flip] = _COMPLEMENT_BYTES[sequences[flip][:, ::-1]]
            yield _SuperBatchQuery(
                ids[:n].astype(np.uint32),
                chromosomes=names[:n].tolist(),
                starts=target_start,
                ends=target_start + self.center_bin_to_predict,
                track_indices=tracks,
                sequences=sequences,
                flipped=flip,
            )
            names, ids, centres, bases = names[n:], ids[n:], centres[n:], bases[n:]

    # --- finishing a loaded batch ----------------------------------------------------------

    def _batch_request(self, batch: _SuperBatchQuery) -> Any:
        """The whole batch as the loader's workers make it: values, smoothed and flipped (with
        strand pairs swapped), and the one-hot sequences (already reverse-complemented bases)."""
        flip = batch.flipped
        augmentations: dict[str, Any] = {"smoothing": self.moving_average_window_size}
        if flip.any():
            augmentations["flip"] = flip.astype(np.uint8)
            augmentations["flip_tracks"] = (
                self._all_tracks_flip
                if batch.track_indices is None
                else np.asarray(self._strand_permutation(list(batch.track_indices)), dtype=np.int64)
            )
        if self.sequence_encoder == "onehot":
            augmentations["bases"] = batch.sequences
            augmentations["sequence_dtype"] = self.sequence_dtype
        return self.collection.batch_request_by_id(
            batch.chromosome_ids,
            batch.starts,
            batch.ends,
            self.window_size,
            float(self.default_value),
            dtype=self.dtype,
            track_indices=batch.track_indices,
            **augmentations,
        )

    def _yielded_item(self, batch: Batch) -> Any:
        """A loaded batch as the iteration yields it: its arrays handed out, its sequences
        encoded as asked, its track names set; a Batch, or a tuple of its fields."""
        batch.values = self._as_yielded_array(batch.values)
        if self.sequence_encoder == "onehot":
            batch.sequences = self._as_yielded_array(batch.sequences)
        else:
            strings = [row.tobytes().decode("ascii") for row in batch.sequences]
            batch.sequences = strings if self.sequence_encoder is None else self.sequence_encoder(strings)
        # As in 0.3: the tracks' paths, all of them when tracks are not sub-sampled.
        batch.track_names = self.collection.track_names_of(batch.track_indices, as_paths=True)
        if self.return_batch_objects:
            return batch
        if batch.track_indices is not None:
            return batch.sequences, batch.values, batch.track_indices, batch.track_names
        return batch.sequences, batch.values

    def _as_yielded_array(self, tensor: Any) -> Any:
        """A loaded tensor as yielded: numpy / CuPy arrays without a copy (bigwig_loader.arrays),
        or, with ``yields_tensors``, the tensor itself."""
        return tensor if self.yields_tensors else user_array(tensor)

    def _strand_permutation(self, tracks: list[int]) -> list[int]:
        """Column permutation of a flipped window: each track takes its strand partner's column
        when the partner is among the selected tracks."""
        column = {t: k for k, t in enumerate(tracks)}
        partner = {}
        for i, j in self.strand_pairs:
            partner[i], partner[j] = j, i
        return [column.get(partner.get(t, t), k) for k, t in enumerate(tracks)]


class _Share(NamedTuple):
    """What one iteration draws: every `of`-th centre of the epoch's stream from `index` on, for
    `batches` batches (a rank's share, or a DataLoader worker's part of it)."""

    index: int
    of: int
    batches: int


class _SuperBatchQuery(Batch):
    """A super-batch the dataset drew: a Batch that also carries its chromosomes as the
    collection's ids, so that its request is made with no conversion of names. The loader hands
    out slices of it (plain Batches), or the batch itself when it is one slice."""

    def __init__(self, chromosome_ids: np.ndarray, **fields: Any) -> None:
        super().__init__(**fields)
        self.chromosome_ids = chromosome_ids


def _collection_of(
    collection, cache_bytes, file_extensions, crawl, scale, first_n_files, storage_options
) -> BigWigCollection:
    """The collection given, its cache bound set when cache_bytes is given (0.3's argument; the
    bound is the collection's, shared by all that read it), or the one made from paths."""
    if isinstance(collection, BigWigCollection):
        if cache_bytes is not None:
            collection.cache_bytes = cache_bytes
        return collection
    return BigWigCollection(
        collection,
        file_extensions=file_extensions,
        crawl=crawl,
        scale=scale,
        first_n_files=first_n_files,
        cache_bytes=cache_bytes,
        storage_options=storage_options,
    )


def _import_cupy() -> Any:
    try:
        import cupy
    except ImportError as error:
        raise ImportError(
            "BigWigDataset on a GPU yields CuPy arrays: install CuPy (pip install cupy-cuda13x, or this "
            "package's cupy extra), or use PytorchBigWigDataset, which yields torch tensors"
        ) from error
    return cupy


def _positive(value: Any, name: str) -> int:
    """A positive integer: TypeError for another kind of value, ValueError below 1."""
    return _arguments.integer(value, name, 1)

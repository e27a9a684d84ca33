"""`StreamedDataloader`: batches of track values loaded ahead of the consumer by C++ workers."""

from __future__ import annotations

import atexit
import functools
import queue
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bigwig_loader import _arguments, _core
from bigwig_loader.arrays import user_array
from bigwig_loader.batch import Batch
from bigwig_loader.collection import BigWigCollection, check_value_dtype
from bigwig_loader.device import device_name, resolve_device

# How long one wait lasts before Python gets control back (to notice Ctrl-C and close()).
_POLL_MS = 50


class _Failure:
    """An exception raised while reading the input generator, in its place in the stream."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()

# Every loader with a run in progress. At interpreter exit, Python ends a daemon thread that
# tries to take the GIL back with pthread_exit; a feeder inside a C++ call (submit(), a FASTA
# read) with the GIL released would then unwind through pybind11's GIL guard, whose destructor
# cannot throw: std::terminate, SIGABRT. So before the interpreter finalizes, every live run is
# closed and its feeder joined (atexit runs while the interpreter is still whole).
_live_runs: weakref.WeakSet = weakref.WeakSet()
# How long exit waits for one feeder: it stops within one poll once its loader is closed, unless
# the user's input generator itself blocks.
_EXIT_JOIN_SECONDS = 10.0


@atexit.register
def _close_live_runs() -> None:
    for loader in list(_live_runs):
        loader._close(join_seconds=_EXIT_JOIN_SECONDS)


class StreamedDataloader:
    """Loads the values of each query batch from `input_generator` on `num_threads` C++ worker
    threads, ahead of the consumer, and yields the batches in input order with ``values`` set,
    as ``BigWigCollection.get_batch`` returns them (numpy on the CPU, ``uint16`` for bfloat16;
    CuPy on a GPU when installed, else a :class:`bigwig_loader.CudaTensor`; never overwritten
    by a later batch).

    Args:
        input_generator: yields :class:`Batch` objects, ``(chromosomes, starts, ends)`` tuples
            or dicts of Batch arguments.
        collection: the BigWigCollection to read.
        num_threads: worker threads, each with its own WorkerContext.
        queue_size: batches loaded ahead at most (bounds memory).
        slice_size: when set, each loaded batch is cut into slices of this many windows
            (the remainder dropped): load big super-batches, train on small ones. A batch
            smaller than slice_size is yielded whole, as in 0.3.
        window_size, default_value, dtype: as in ``BigWigCollection.get_batch``; they make the
            requests when no ``batch_request`` is given, and are not used when one is.
        device: as in ``BigWigCollection.get_batch``. On a GPU every worker has its own CUDA
            stream, pinned staging and device scratch.
        cache_bytes: kept for 0.3: when given, sets the collection's ``cache_bytes`` (the bound
            of its cache of decoded blocks, shared by every worker and by everything else
            reading that collection; 0 turns it off); None keeps the collection's.
        batch_request: how each input Batch becomes the request the workers load (a
            ``_core.BatchRequest``; default: ``collection.batch_request`` with the settings
            above). A request with bases makes the workers also one-hot encode them: the
            yielded Batch then has ``sequences`` set too. Called on the feeder thread.
        tensors: yield the loaded tensors as the workers made them (:class:`bigwig_loader.Tensor`,
            or ``CudaTensor`` on a GPU; both speak DLPack) instead of numpy / CuPy arrays
            (default False).

    The order of batches never depends on thread timing. An exception raised by the input
    generator, or while loading a batch, is raised by the iteration that reaches it, with its
    own type and message. Leaving a ``with`` block, ``close()``, ``break`` out of the
    iteration, deleting the loader, or KeyboardInterrupt stop every thread. As in 0.3 a
    stopped loader starts again in a new ``with`` block (or a new iteration): it reads on from
    ``iter(input_generator)``, so a generator carries on where it was and a list starts over;
    batches loaded ahead but not taken by the last run are dropped.
    """

    def __init__(
        self,
        input_generator: Iterable[Any],
        collection: BigWigCollection,
        num_threads: int = 4,
        queue_size: int = 10,
        slice_size: int | None = None,
        window_size: int = 1,
        default_value: float = 0.0,
        dtype: str = "float32",
        device: Any = None,
        cache_bytes: int | None = None,
        batch_request: Callable[[Batch], Any] | None = None,
        tensors: bool = False,
    ) -> None:
        if slice_size is not None and slice_size < 1:
            raise ValueError(f"slice_size must be at least 1, got {slice_size}")
        if cache_bytes is not None:
            collection.cache_bytes = cache_bytes
        self.collection = collection
        self.slice_size = slice_size
        self.input_generator = input_generator
        self.num_threads = _arguments.count(num_threads, "num_threads")
        self.queue_size = _arguments.count(queue_size, "queue_size")
        if batch_request is None:  # the loader's own settings make the requests; checked in them
            batch_request = functools.partial(
                _request_of_query, collection, window_size, default_value, check_value_dtype(dtype)
            )
        self.batch_request = batch_request
        ordinal = resolve_device(device)
        self.device = device_name(ordinal)
        self._ordinal = ordinal
        self.tensors = bool(tensors)
        self._start()

    def _start(self) -> None:
        """Starts a run: a fresh C++ loader and feeder thread over ``iter(input_generator)``."""
        previous = getattr(self, "_feeder", None)
        if previous is not None and previous.is_alive() and previous is not threading.current_thread():
            previous.join()  # it stops after its current item: two threads never share one generator
        # Each worker's processor is made with the settings get_batch's processors have.
        self._core = _core.StreamedDataloader(
            self.collection.core_collection,
            self.num_threads,
            self.queue_size,
            1,
            self._ordinal,
            staging_bytes=self.collection.pinned_memory_size,
        )
        self._pending: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._iterated = False
        # The feeder holds no reference to `self`, so that dropping the loader closes it.
        self._feeder = threading.Thread(
            target=_feed,
            args=(
                iter(self.input_generator),
                self.collection,
                self._core,
                self._pending,
                self._stop,
                self.batch_request,
            ),
            name="bigwig-loader-feeder",
            daemon=True,
        )
        self._feeder.start()
        _live_runs.add(self)

    def __enter__(self) -> StreamedDataloader:
        if self._stop.is_set():  # the previous run was closed: start again, as 0.3 does
            self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Stops the feeder and every worker; batches not yet taken are dropped. Idempotent."""
        self._close(join_seconds=1.0)

    def _close(self, join_seconds: float) -> None:
        stop = getattr(self, "_stop", None)
        if stop is None:
            return
        stop.set()
        self._core.close()
        if self._feeder.is_alive() and self._feeder is not threading.current_thread():
            self._feeder.join(timeout=join_seconds)
        _live_runs.discard(self)

    def __iter__(self) -> Iterator[Batch]:
        if self._stop.is_set():
            self._start()
        elif self._iterated:
            raise RuntimeError("this StreamedDataloader is already being iterated; close() it first")
        self._iterated = True
        return self._batches()

    def _batches(self) -> Iterator[Batch]:
        run = self._stop  # this iteration's run; a later run (after a restart) is not its to read or close
        try:
            while True:
                if self._stop is not run:
                    return
                item = self._take_pending()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                batch: Batch = item
                loaded = self._take_values()
                values, sequences = loaded if isinstance(loaded, tuple) else (loaded, None)
                batch.values = values if self.tensors else user_array(values)
                if sequences is not None:
                    batch.sequences = sequences if self.tensors else user_array(sequences)
                if self.slice_size is None or self.slice_size >= len(batch):
                    yield batch
                else:
                    for start in range(0, len(batch) - self.slice_size + 1, self.slice_size):
                        yield batch[start : start + self.slice_size]
        finally:
            if self._stop is run:
                self.close()

    def _take_pending(self) -> Any:
        while True:
            try:
                return self._pending.get(timeout=_POLL_MS / 1000)
            except queue.Empty:
                # The run was closed (by close(), another thread, or the end of a with block)
                # before the input ran out: say so, whether or not a batch was still queued,
                # so that the answer never depends on thread timing.
                if self._stop.is_set():
                    raise RuntimeError("the StreamedDataloader was closed") from None

    def _take_values(self) -> Any:
        while True:
            values = self._core.next(_POLL_MS)
            if not isinstance(values, str):
                return values
            if values == "closed":
                raise RuntimeError("the StreamedDataloader was closed")


def _request_of_query(collection, window_size, default_value, dtype, batch: Batch) -> Any:
    """The request of a query Batch: its windows and tracks with the loader's settings."""
    return collection.batch_request(
        batch.chromosomes,
        batch.starts,
        batch.ends,
        window_size,
        default_value,
        dtype=dtype,
        track_indices=batch.track_indices,
    )


def _feed(inputs, collection, core, pending, stop, batch_request) -> None:
    """The feeder thread: reads the input generator, submits each batch, and queues the Batch
    (or the failure) for the consumer, in order."""
    try:
        for item in inputs:
            if stop.is_set():
                return
            batch = Batch.from_args(item)
            request = batch_request(batch)
            if batch.track_indices is not None:
                batch.track_names = collection.track_names_of(request.tracks)
            while True:
                status = core.submit(request, _POLL_MS)
                if status == "ready":
                    break
                if status == "closed" or stop.is_set():
                    return
            pending.put(batch)
    except BaseException as error:  # noqa: BLE001 - handed to the consumer with its own type
        pending.put(_Failure(error))
        return
    pending.put(_END)

"""`StreamedDataloader`: batches of track values loaded ahead of the consumer by C++ workers."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from bigwig_loader import _core
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


class StreamedDataloader:
    """Loads the values of each query batch from `input_generator` on `num_threads` C++ worker
    threads, ahead of the consumer, and yields the batches in input order with ``values`` set
    (a :class:`bigwig_loader.Tensor`, or a :class:`bigwig_loader.CudaTensor` on a GPU;
    DLPack-capable, never overwritten by a later batch).

    Args:
        input_generator: yields :class:`Batch` objects, ``(chromosomes, starts, ends)`` tuples
            or dicts of Batch arguments.
        collection: the BigWigCollection to read.
        num_threads: worker threads, each with its own WorkerContext.
        queue_size: batches loaded ahead at most (bounds memory).
        slice_size: when set, each loaded batch is cut into slices of this many windows
            (the remainder dropped): load big super-batches, train on small ones.
        window_size, default_value, dtype, device: as in ``BigWigCollection.get_batch``. On a
            GPU every worker has its own CUDA stream, pinned staging and device scratch.

    The order of batches never depends on thread timing. An exception raised by the input
    generator, or while loading a batch, is raised by the iteration that reaches it, with its
    own type and message. Leaving a ``with`` block, ``close()``, ``break`` out of the
    iteration, deleting the loader, or KeyboardInterrupt stop every thread. A loader is
    iterated once.
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
    ) -> None:
        if slice_size is not None and slice_size < 1:
            raise ValueError(f"slice_size must be at least 1, got {slice_size}")
        self.collection = collection
        self.slice_size = slice_size
        self.window_size = window_size
        self.default_value = default_value
        self.dtype = check_value_dtype(dtype)
        ordinal = resolve_device(device)
        self.device = device_name(ordinal)
        self._core = _core.StreamedLoader(collection._collection, int(num_threads), int(queue_size), 1, ordinal)
        self._pending: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._iterated = False
        # The feeder holds no reference to `self`, so that dropping the loader closes it.
        self._feeder = threading.Thread(
            target=_feed,
            args=(iter(input_generator), collection, self._core, self._pending, self._stop,
                  window_size, default_value, dtype),
            name="bigwig-loader-feeder",
            daemon=True,
        )
        self._feeder.start()

    def __enter__(self) -> StreamedDataloader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Stops the feeder and every worker; batches not yet taken are dropped. Idempotent."""
        stop = getattr(self, "_stop", None)
        if stop is None:
            return
        stop.set()
        self._core.close()
        if self._feeder.is_alive() and self._feeder is not threading.current_thread():
            self._feeder.join(timeout=1.0)

    def __iter__(self) -> Iterator[Batch]:
        if self._iterated:
            raise RuntimeError("a StreamedDataloader is iterated once; make a new one")
        self._iterated = True
        return self._batches()

    def _batches(self) -> Iterator[Batch]:
        try:
            while True:
                item = self._take_pending()
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                batch: Batch = item
                batch.values = self._take_values()
                if self.slice_size is None:
                    yield batch
                else:
                    for start in range(0, len(batch) - self.slice_size + 1, self.slice_size):
                        yield batch[start : start + self.slice_size]
        finally:
            self.close()

    def _take_pending(self) -> Any:
        while True:
            try:
                return self._pending.get(timeout=_POLL_MS / 1000)
            except queue.Empty:
                if self._stop.is_set():
                    return _END

    def _take_values(self) -> Any:
        while True:
            values = self._core.next(_POLL_MS)
            if not isinstance(values, str):
                return values
            if values == "closed":
                raise RuntimeError("the StreamedDataloader was closed")


def _feed(inputs, collection, core, pending, stop, window_size, default_value, dtype) -> None:
    """The feeder thread: reads the input generator, submits each batch, and queues the Batch
    (or the failure) for the consumer, in order."""
    try:
        for item in inputs:
            if stop.is_set():
                return
            batch = Batch.from_args(item)
            chrom_ids, starts, length, tracks, scales = collection._request_arrays(
                batch.chromosomes, batch.starts, batch.ends, window_size, batch.track_indices, True
            )
            if batch.track_indices is not None:
                batch.track_names = [collection.track_names[i] for i in tracks]
            while True:
                status = core.submit(chrom_ids, starts, length, window_size, default_value, dtype, tracks, scales, _POLL_MS)
                if status == "ready":
                    break
                if status == "closed" or stop.is_set():
                    return
            pending.put(batch)
    except BaseException as error:  # noqa: BLE001 - handed to the consumer with its own type
        pending.put(_Failure(error))
        return
    pending.put(_END)

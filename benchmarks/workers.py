"""Each contender of benchmarks/harness.py in a process of its own, driven over a pipe.

A worker is a long-lived process started with multiprocessing's 'spawn' context (a fresh
interpreter: no thread pool, cache or allocator state inherited from the harness or from another
contender). It holds one `Session`: one contender's reader over one set of files. The harness
sends it one request at a time and waits for the answer; the other workers meanwhile block on
their pipes, so only one contender works at a time. The requests:

  open(paths, bin_size, table)  make the reader, opening every file (untimed); the window table
                                is the parent's, sent whole, so every process reads identical windows
  check(batch)                  read one batch and return it as numpy (batch, length // bin, tracks),
                                for the parent to compare with pyBigWig's (untimed)
  time_pass(batches)            read these batches one after another and return the seconds taken

`Local` runs a Session in the harness's own process instead (--one-process: every contender in
one process, as the harness was before issue 25), behind the same two calls.
"""

from __future__ import annotations

import gc
import multiprocessing
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import contenders


class ContenderError(RuntimeError):
    """A request failed in a contender (its traceback is the message) or its worker died."""


class Session:
    """One contender's reader over one set of files, and the requests the harness makes of it."""

    def __init__(self, contender: contenders.Contender):
        self.contender = contender
        self.reader: Any = None
        self.batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def open(self, paths: Sequence[Path], bin_size: int, table: contenders.WindowTable) -> float:
        """Drops the reader of the previous files (closing them), then opens these; the seconds."""
        self.reader = None
        gc.collect()
        self.batches = [table.batch(b) for b in range(len(table.rows))]
        t0 = time.perf_counter()
        self.reader = contenders.make_reader(self.contender, paths, bin_size, table)
        return time.perf_counter() - t0

    def check(self, batch: int) -> np.ndarray:
        if isinstance(self.reader, contenders.DataLoaderContender):
            (raw,) = self.reader.run_pass([batch])
        else:
            raw = self.reader(*self.batches[batch])
        return contenders.harness_layout(self.reader, raw)

    def time_pass(self, batches: Sequence[int]) -> float:
        """The seconds one pass over `batches` takes. Each output is dropped, as a training loop
        drops it, when the next batch has been read (keeping a pass's outputs would not fit at
        1 GiB a batch). A reader with a `before_batch` (pybigtools reopened to empty its cache)
        has it called before each batch, untimed: the pass's time is its batches' sum."""
        reader = self.reader
        if isinstance(reader, contenders.DataLoaderContender):
            t0 = time.perf_counter()
            reader.run_pass(batches)
            return time.perf_counter() - t0
        before_batch = getattr(reader, "before_batch", None)
        out = None
        if before_batch is not None:
            seconds = 0.0
            for b in batches:
                before_batch()
                t0 = time.perf_counter()
                out = reader(*self.batches[b])
                seconds += time.perf_counter() - t0
            del out
            return seconds
        t0 = time.perf_counter()
        for b in batches:
            out = reader(*self.batches[b])
        seconds = time.perf_counter() - t0
        del out
        return seconds


def serve(conn, contender: contenders.Contender) -> None:
    """A worker's loop: answer ("ok", result) or ("error", traceback) to each (method, args)
    until ("close", ())."""
    session = Session(contender)
    while True:
        try:
            method, args = conn.recv()
        except EOFError:  # the harness went away
            return
        if method == "close":
            conn.send(("ok", None))
            return
        try:
            conn.send(("ok", getattr(session, method)(*args)))
        except Exception:
            conn.send(("error", traceback.format_exc()))


class _Caller:
    """What Remote and Local share: call() is send() then receive(), and an answer of a failed
    call is a ContenderError naming the contender."""

    name: str

    def send(self, method: str, *args: Any) -> None:
        raise NotImplementedError

    def receive(self) -> Any:
        raise NotImplementedError

    def unwrap(self, status: str, value: Any) -> Any:
        if status == "error":
            raise ContenderError(f"{self.name}:\n{value}")
        return value

    def call(self, method: str, *args: Any) -> Any:
        self.send(method, *args)
        return self.receive()


class Remote(_Caller):
    """A contender in its own worker process. `send` a request, then `receive` its answer (so
    that the harness can ask every worker to open its files before waiting for any)."""

    def __init__(self, contender: contenders.Contender):
        self.name = contender.name
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        # Not a daemon: a DataLoader contender starts worker processes of its own.
        self.process = context.Process(target=serve, args=(child, contender), name=contender.name)
        self.process.start()
        child.close()

    def send(self, method: str, *args: Any) -> None:
        try:
            self.conn.send((method, args))
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise ContenderError(f"{self.name}: its worker process died (exit code {self.process.exitcode})") from None

    def receive(self) -> Any:
        try:
            status, value = self.conn.recv()
        except (EOFError, ConnectionResetError, OSError):
            self.process.join(1)
            raise ContenderError(f"{self.name}: its worker process died (exit code {self.process.exitcode})") from None
        return self.unwrap(status, value)

    def close(self) -> None:
        if self.process.is_alive():
            try:
                self.call("close")
            except ContenderError:
                pass
            self.process.join(10)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(5)
        self.conn.close()


class Local(_Caller):
    """A contender in the harness's own process, behind Remote's calls."""

    def __init__(self, contender: contenders.Contender):
        self.name = contender.name
        self.session = Session(contender)
        self.answer: Any = None

    def send(self, method: str, *args: Any) -> None:
        try:
            self.answer = ("ok", getattr(self.session, method)(*args))
        except Exception:
            self.answer = ("error", traceback.format_exc())

    def receive(self) -> Any:
        status, value = self.answer
        self.answer = None
        return self.unwrap(status, value)

    def close(self) -> None:
        self.session.reader = None


class Pool:
    """The workers of a harness run, one per contender name, started on first use and kept for
    every later case that has that contender (each case opens its own files in them)."""

    def __init__(self, one_process: bool = False):
        self.one_process = one_process
        self.workers: dict[str, Remote | Local] = {}

    def get(self, contender: contenders.Contender) -> Remote | Local:
        worker = self.workers.get(contender.name)
        if worker is None:
            worker = (Local if self.one_process else Remote)(contender)
            self.workers[contender.name] = worker
        return worker

    def drop(self, name: str) -> None:
        worker = self.workers.pop(name, None)
        if worker is not None:
            worker.close()

    def close(self) -> None:
        for name in list(self.workers):
            self.drop(name)

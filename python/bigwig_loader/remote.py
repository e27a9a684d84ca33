"""Tracks (and reference genomes) in object stores and on web servers: S3, GCS, Azure, HTTP(S).

The C++ core decides what to read: for a batch, every block of every file it needs, merged into
ranges per file (``_core.merge_ranges``), all fetched in one round. This module only fetches, with
obstore (the Python binding of Rust's ``object_store``: each cloud's credential chain, signing,
retries, connection pooling; the GIL released while it waits). Why obstore and not fsspec or
boto3: one client for every store, async ranged GETs that a single event loop runs a thousand at
a time, and conditional GETs (``If-Match``) so that a changed object is caught on the request
that would have mixed its versions (benchmarks/RESULTS.md, "Remote reads").

One event loop per process runs in a thread of its own: every worker's round goes to it, so one
bound on requests in flight holds for the whole process, and a caller inside a running loop (a
notebook) does not block it. A forked process (DataLoader workers) makes its own loop and stores.

Errors, each naming the URL: ``FileNotFoundError`` (no such object or bucket),
``PermissionError`` (credentials refused or missing), ``FileChangedError`` (the object's ETag
changed after it was opened), :class:`RemoteReadError` (a transient fault outlasted the retries:
the byte range and the cause), ``ImportError`` (obstore is not installed: what to install).
"""

from __future__ import annotations

import asyncio
import atexit
import configparser
import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from bigwig_loader import _core

#: The URL schemes read here; any other ``scheme://`` is refused by name.
SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss", "azure", "http", "https")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")

#: Bytes of the first request to a bigWig (the core's choice: the header, zoom headers, summary and,
#: from every writer seen, the chromosome tree); what follows is fetched in a second round.
FRONT_BYTES = int(_core.remote_front_bytes)
#: Requests in flight at once per process (over all files and batches).
DEFAULT_CONCURRENCY = 64
#: Tries of one range before RemoteReadError (obstore retries 5xx and refused connections inside
#: each; these cover what it hands back: bodies cut short or reset, stalls).
DEFAULT_ATTEMPTS = 4
DEFAULT_TIMEOUT_SECONDS = 30.0

INSTALL_HINT = "pip install 'bigwig-loader[remote]'"


#: A range of a remote object could not be read: a transient fault (timeout, 5xx, reset or short
#: body) outlasted the retries. Names the URL, the byte range and the cause. An OSError; the
#: core's own type, so that it keeps its name through a batch.
RemoteReadError = _core.RemoteReadError


def is_url(path: object) -> bool:
    """Whether `path` is a URL (``scheme://...``); ValueError for a scheme not read here."""
    if not isinstance(path, str):
        return False
    m = _URL.match(path)
    if not m:
        return False
    if m.group(1).lower() not in SCHEMES:
        raise ValueError(f"{path}: unsupported URL scheme {m.group(1)!r} (supported: {', '.join(SCHEMES)})")
    return True


class RemoteUrl(str):
    """A URL with the path-like parts that track names and scale keys use: ``name``, ``stem``,
    ``suffix``, ``parts`` (``("s3://bucket", "dir", "file.bw")``). ``str()`` is the URL itself."""

    def _split(self) -> tuple[str, PurePosixPath]:
        parts = urlsplit(str(self))
        return f"{parts.scheme}://{parts.netloc}", PurePosixPath(unquote(parts.path) or "/")

    @property
    def name(self) -> str:
        return self._split()[1].name

    @property
    def stem(self) -> str:
        return self._split()[1].stem

    @property
    def suffix(self) -> str:
        return self._split()[1].suffix

    @property
    def parts(self) -> tuple[str, ...]:
        root, path = self._split()
        return (root, *path.parts[1:])

    def resolve(self) -> RemoteUrl:
        return self

    def is_absolute(self) -> bool:
        return True

    def __fspath__(self) -> str:  # what os.fspath gives: the URL (never a local path)
        return str(self)


def _obstore() -> Any:
    try:
        import obstore
    except ImportError as exc:
        raise ImportError(f"reading URLs needs the object-store client obstore: {INSTALL_HINT}") from exc
    return obstore


# --- Stores: one per (process, scheme and bucket or host, options) -----------------------------


@dataclass(frozen=True)
class Settings:
    """What the stores of one collection are made with: the client's own configuration (keys of
    obstore's S3/GCS/Azure config), and this module's request settings."""

    config: tuple[tuple[str, Any], ...] = ()
    client: tuple[tuple[str, Any], ...] = ()  # obstore's client_options, given through
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    attempts: int = DEFAULT_ATTEMPTS
    concurrency: int = DEFAULT_CONCURRENCY


# fsspec's names (s3fs, gcsfs, adlfs) for the options users already pass, and obstore's.
_FSSPEC_NAMES = {
    "key": "access_key_id",
    "secret": "secret_access_key",
    "token": "session_token",
    "endpoint_url": "endpoint",
    "region_name": "region",
    "account_name": "account_name",
    "account_key": "account_key",
    "sas_token": "sas_key",
}


def settings_from(storage_options: Mapping[str, Any] | None) -> Settings:
    """The Settings of ``storage_options=`` (fsspec's convention: ``key``, ``secret``, ``token``,
    ``endpoint_url``, ``anon``, ``client_kwargs={"region_name": ...}``; obstore's config keys
    pass through), plus ``timeout`` (seconds per request), ``attempts`` and ``concurrency``."""
    if storage_options is None:
        return Settings()
    if not isinstance(storage_options, Mapping):
        raise TypeError(f"storage_options must be a dict, got {type(storage_options).__name__}")
    options = dict(storage_options)
    timeout = float(options.pop("timeout", DEFAULT_TIMEOUT_SECONDS))
    attempts = int(options.pop("attempts", DEFAULT_ATTEMPTS))
    concurrency = int(options.pop("concurrency", DEFAULT_CONCURRENCY))
    if timeout <= 0 or attempts < 1 or concurrency < 1:
        raise ValueError(
            f"storage_options: timeout must be > 0, attempts and concurrency >= 1 "
            f"(got timeout={timeout}, attempts={attempts}, concurrency={concurrency})"
        )
    client = tuple(sorted((options.pop("client_options", None) or {}).items()))
    config: dict[str, Any] = {}
    for key, value in (options.pop("client_kwargs", None) or {}).items():
        config[_FSSPEC_NAMES.get(key, key)] = value
    if options.pop("anon", False):
        config["skip_signature"] = True
    for key, value in options.items():
        config[_FSSPEC_NAMES.get(key, key)] = value
    return Settings(tuple(sorted(config.items())), client, timeout, attempts, concurrency)


def _aws_profile() -> dict[str, str]:
    """The access keys, region and endpoint of the AWS profile (``AWS_PROFILE``, else
    ``default``) in ``~/.aws/credentials`` and ``~/.aws/config``, for what the environment lacks:
    object_store reads only the environment, and users' keys often live in those files."""
    profile = os.environ.get("AWS_PROFILE", "default")
    found: dict[str, str] = {}
    files = (
        (os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"), profile),
        (os.environ.get("AWS_CONFIG_FILE", "~/.aws/config"), profile if profile == "default" else f"profile {profile}"),
    )
    for path, section in files:
        parser = configparser.ConfigParser()
        try:
            parser.read(os.path.expanduser(path))
        except configparser.Error as exc:
            raise ValueError(f"{path}: not a readable AWS configuration file: {exc}") from exc
        if parser.has_section(section):
            for key, value in parser.items(section):
                found.setdefault(key, value)
    names = {
        "aws_access_key_id": "access_key_id",
        "aws_secret_access_key": "secret_access_key",
        "aws_session_token": "session_token",
        "region": "region",
        "endpoint_url": "endpoint",
    }
    return {names[k]: v for k, v in found.items() if k in names}


def _make_store(scheme: str, authority: str, settings: Settings) -> Any:
    store_module = _obstore().store
    config = dict(settings.config)
    timeout = f"{settings.timeout}s"
    client: dict[str, Any] = {"timeout": timeout, "connect_timeout": f"{min(settings.timeout, 10.0)}s"}
    client.update(settings.client)
    # obstore retries refused connections and 5xx itself; the retry budget stays inside the
    # request timeout so that a stalled server costs at most about attempts x timeout.
    from datetime import timedelta

    retry = {
        "max_retries": 3,
        "backoff": {"init_backoff": timedelta(milliseconds=50), "max_backoff": timedelta(seconds=2), "base": 2},
        "retry_timeout": timedelta(seconds=settings.timeout),
    }
    if scheme == "s3":
        if "access_key_id" not in config and "skip_signature" not in config and not os.environ.get("AWS_ACCESS_KEY_ID"):
            for key, value in _aws_profile().items():
                config.setdefault(key, value)
        endpoint = config.get("endpoint") or os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT")
        if endpoint and str(endpoint).startswith("http://"):
            client["allow_http"] = True  # an S3-compatible store on plain HTTP (MinIO, Ceph), as given
        return store_module.S3Store(authority, config=config, client_options=client, retry_config=retry)
    if scheme in ("gs", "gcs"):
        return store_module.GCSStore(authority, config=config, client_options=client, retry_config=retry)
    if scheme in ("az", "azure", "abfs", "abfss"):
        container, _, account = authority.partition("@")
        if account:
            config.setdefault("account_name", account.split(".")[0])
        return store_module.AzureStore(container, config=config, client_options=client, retry_config=retry)
    client["allow_http"] = scheme == "http"
    return store_module.HTTPStore.from_url(f"{scheme}://{authority}", client_options=client, retry_config=retry)


# obstore's runtime (tokio's threads) does not survive fork: in a process forked after its parent
# used it, every request would wait forever. Such a process gets a clear error instead.
_used_by_pid: int | None = None
_forked_after_use = False


def _after_fork_in_child() -> None:
    global _forked_after_use
    if _used_by_pid is not None:
        _forked_after_use = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def _check_not_forked_after_use(url: str) -> None:
    global _used_by_pid
    if _forked_after_use:
        raise RemoteReadError(
            f"{url}: this process was forked after its parent read remote files, and the object-store "
            "client's runtime does not survive fork (its requests would never finish). Read remote "
            "tracks in the process that opened them: DataLoader(num_workers=0) (the loader's own threads "
            "fetch concurrently and ahead), or one process per rank (torchrun)"
        )
    _used_by_pid = os.getpid()


class _Stores:
    """Stores made once per process (a client's connection pool does not survive fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._stores: dict[tuple[str, str, str], Any] = {}

    def clear(self) -> None:
        with self._lock:
            self._stores = {}

    def locate(self, url: str, settings: Settings) -> tuple[Any, str]:
        """(store, key in it) of `url`."""
        _check_not_forked_after_use(url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        key = unquote(parts.path.lstrip("/"))
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._stores = os.getpid(), {}
            cache_key = (scheme, parts.netloc, repr(settings))  # repr: option values may be dicts
            store = self._stores.get(cache_key)
            if store is None:
                store = self._stores[cache_key] = _make_store(scheme, parts.netloc, settings)
        return store, key


_stores = _Stores()


# --- The loop: one thread per process runs every round ----------------------------------------


class _WakeCountingLoop(asyncio.SelectorEventLoop):
    """The event loop of the loop thread, counting the threads inside call_soon_threadsafe.

    obstore's client threads (Rust, tokio) hand each finished request to the loop through
    call_soon_threadsafe, which wakes the loop with a socket send that releases the GIL: the
    awaiting coroutine may run, the batch return and the interpreter start to exit while that
    thread is still in the send, and a thread that takes the GIL back during finalization is
    ended mid-call, through Rust frames: SIGABRT (one exit in about 15 under load). The exit
    hook waits until no thread is inside (_Loop.stop)."""

    def __init__(self) -> None:
        super().__init__()
        self._wakers_lock = threading.Lock()
        self.wakers_inside = 0

    def call_soon_threadsafe(self, callback: Any, *args: Any, context: Any = None) -> Any:
        with self._wakers_lock:
            self.wakers_inside += 1
        try:
            return super().call_soon_threadsafe(callback, *args, context=context)
        finally:
            with self._wakers_lock:
                self.wakers_inside -= 1


class _Loop:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._slots: dict[int, asyncio.Semaphore] = {}

    def run(self, coroutine_of: Any) -> Any:
        """Runs the coroutine ``coroutine_of()`` makes on the process's loop and waits for its
        result (the GIL released while waiting)."""
        loop = self._get()
        return asyncio.run_coroutine_threadsafe(coroutine_of(), loop).result()

    def stop(self) -> None:
        with self._lock:
            loop, thread, self._loop = self._loop, self._thread, None
        if loop is None or self._pid != os.getpid():
            return

        async def cancel_the_rest() -> None:
            # A loader's worker still waiting on a round gets CancelledError, not a wait forever.
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(cancel_the_rest(), loop).result(timeout=5)
        except Exception:  # noqa: BLE001 - exiting: stop the loop whatever happened
            pass
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        # The client threads that woke the loop last may still be inside call_soon_threadsafe
        # (see _WakeCountingLoop): let them out before the interpreter exits.
        deadline = time.monotonic() + 2.0
        while loop.wakers_inside > 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        if not loop.is_running():
            loop.close()

    def slots(self, concurrency: int) -> asyncio.Semaphore:
        """The bound on requests in flight, one per concurrency setting; called on the loop."""
        slots = self._slots.get(concurrency)
        if slots is None:
            slots = self._slots[concurrency] = asyncio.Semaphore(concurrency)
        return slots

    def _get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                loop = _WakeCountingLoop()
                thread = threading.Thread(target=loop.run_forever, name="bigwig-loader-remote", daemon=True)
                thread.start()
                self._loop, self._thread, self._pid, self._slots = loop, thread, os.getpid(), {}
            return self._loop


_loop = _Loop()


@atexit.register
def _stop_at_exit() -> None:
    """Stops the loop's thread and drops the stores while the interpreter is whole: a daemon
    thread or a client's thread that touches Python during finalization is ended mid-call, and
    through native frames that ends the process (SIGABRT) instead of the thread."""
    _loop.stop()
    _stores.clear()


# --- Errors -----------------------------------------------------------------------------------


def _permanent_error(exc: BaseException, url: str, etag: str | None) -> OSError | None:
    """The typed error of a fault that no retry mends, or None for a transient one."""
    exceptions = _obstore().exceptions
    cause = _cause(exc)
    # obstore raises the builtin FileNotFoundError for a missing object (its NotFoundError too).
    if isinstance(exc, (FileNotFoundError, exceptions.NotFoundError)):
        return FileNotFoundError(f"{url}: no such object (or bucket): {cause}")
    if isinstance(exc, (exceptions.PermissionDeniedError, exceptions.UnauthenticatedError)):
        return PermissionError(f"{url}: access refused (check the credentials): {cause}")
    if isinstance(exc, exceptions.PreconditionError):
        return _core.FileChangedError(
            f"{url}: the object changed after it was opened (its ETag is no longer {etag}); "
            "what was read at open (its index, cached blocks) no longer describes it: open it again"
        )
    text = str(exc)
    if "403 Forbidden" in text or "InvalidAccessKeyId" in text or "SignatureDoesNotMatch" in text:
        return PermissionError(f"{url}: access refused (check the credentials): {cause}")
    if "404 Not Found" in text or "NoSuchBucket" in text or "NoSuchKey" in text:
        return FileNotFoundError(f"{url}: no such object (or bucket): {cause}")
    if "412 Precondition Failed" in text:
        return _permanent_error(exceptions.PreconditionError(text), url, etag)
    if isinstance(exc, (exceptions.InvalidPathError, exceptions.UnknownConfigurationKeyError, ValueError, TypeError)):
        return RemoteReadError(f"{url}: {cause}")
    return None


def _cause(exc: BaseException) -> str:
    """The first line of an obstore error (they run to a debug dump of the request)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


# --- Reading ----------------------------------------------------------------------------------


async def _retried(url: str, etag: str | None, start: int, end: int, settings: Settings, once: Any) -> Any:
    """The one retry loop of every request: ``once()`` (a coroutine: one request, answering
    (result, None) or (None, why it is short)) up to settings.attempts times with backoff, each
    within a request slot and a timeout. A fault no retry mends raises its typed error at once;
    the rest, once the attempts are spent, RemoteReadError naming the URL, the range and the cause."""
    last = "no attempt"
    for attempt in range(settings.attempts):
        if attempt:
            await asyncio.sleep(min(0.1 * 2 ** (attempt - 1), 2.0))
        try:
            async with _loop.slots(settings.concurrency):
                result, short = await asyncio.wait_for(once(), settings.timeout + 5)
        except asyncio.TimeoutError:
            last = f"no answer within {settings.timeout + 5:g} s"
            continue
        except _core.BigWigError:
            raise
        except Exception as exc:  # noqa: BLE001 - obstore's errors are typed below or retried
            typed = _permanent_error(exc, url, etag)
            if typed is not None:
                raise typed from exc
            last = _cause(exc)
            continue
        if short is None:
            return result
        last = short
    raise RemoteReadError(f"{url}: bytes {start}-{end}: {last} (gave up after {settings.attempts} attempts)")


async def _get_range(store: Any, key: str, url: str, etag: str | None, start: int, end: int, settings: Settings) -> Any:
    """Bytes [start, end) of the object, exactly, conditional on `etag`."""
    obstore = _obstore()
    options: dict[str, Any] = {"range": (start, end)}
    if etag:
        options["if_match"] = etag

    async def once() -> tuple[Any, str | None]:
        result = await obstore.get_async(store, key, options=options)
        data = await result.bytes_async()
        if len(data) != end - start:
            return None, f"{len(data)} bytes came back for {end - start}"
        return data, None

    return await _retried(url, etag, start, end, settings, once)


class RangeFetcher:
    """The core's range fetcher for the objects of one collection: ``fetch(jobs)`` with one
    ``(url, etag, starts, ends)`` per object, answered by one list of buffers per object, all
    the round's ranges in flight at once (within ``settings.concurrency``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rounds = 0  # calls so far (each a round: tests and benchmarks count them)

    def __call__(self, jobs: Sequence[tuple[str, str, Sequence[int], Sequence[int]]]) -> list[list[Any]]:
        self.rounds += 1
        return _loop.run(lambda: self._round(jobs))

    async def _round(self, jobs: Sequence[tuple[str, str, Sequence[int], Sequence[int]]]) -> list[list[Any]]:
        coroutines, counts = [], []
        for url, etag, starts, ends in jobs:
            store, key = _stores.locate(url, self.settings)
            coroutines += [_get_range(store, key, url, etag or None, s, e, self.settings) for s, e in zip(starts, ends)]
            counts.append(len(starts))
        flat = await _all(coroutines)
        out, at = [], 0
        for n in counts:
            out.append(flat[at : at + n])
            at += n
        return out


async def _all(coroutines: Sequence[Any]) -> list[Any]:
    """The coroutines' results, run at once; on the first error the rest are cancelled and that
    error raised (one typed error, as the caller expects, not a group)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def open_objects(urls: Sequence[str], storage_options: Mapping[str, Any] | None = None) -> list[Any]:
    """One ``_core.RemoteObject`` per URL, ready for the core to open as a bigWig: every object's
    first bytes (header, chromosome tree) in one concurrent round, then the rest of what an open
    reads (the index; the tree where it runs past the first bytes) in a second. The ETag of the
    first answer is the one every later fetch must match."""
    settings = settings_from(storage_options)
    fetcher = RangeFetcher(settings)
    core_fetcher = _core.RangeFetcher(fetcher)  # one for all: a batch's round is one call

    async def fronts() -> list[tuple[bytes, int, str]]:
        return await _all([_front(url, settings) for url in urls])

    objects = []
    for url, (front, size, etag) in zip(urls, _loop.run(fronts)):
        obj = _core.RemoteObject(str(url), size, etag, core_fetcher)
        obj.keep(0, front)
        objects.append(obj)

    # The second round: what each open reads beyond its first bytes.
    jobs, owners = [], []
    for obj in objects:
        wanted = [(s, e) for s, e in _open_ranges(obj) if e > min(FRONT_BYTES, obj.size)]
        wanted = [(max(s, min(FRONT_BYTES, obj.size)), e) for s, e in wanted]
        if wanted:
            merged = _core.merge_ranges(wanted)
            jobs.append((obj.path, obj.etag, [s for s, _ in merged], [e for _, e in merged]))
            owners.append((obj, merged))
    if jobs:
        answers = _loop.run(lambda: fetcher._round(jobs))
        for (obj, merged), buffers in zip(owners, answers):
            for (start, _), data in zip(merged, buffers):
                obj.keep(start, data)
    return objects


def _open_ranges(obj: Any) -> list[tuple[int, int]]:
    try:
        return list(_core.open_ranges(obj))
    except ValueError:
        return []  # not a bigWig: the open that follows says so, naming the URL


async def _front(url: str, settings: Settings) -> tuple[bytes, int, str]:
    """(first bytes, size, ETag) of the object, from one ranged GET."""
    obstore = _obstore()
    store, key = _stores.locate(url, settings)

    async def once() -> tuple[Any, str | None]:
        try:
            result = await obstore.get_async(store, key, options={"range": (0, FRONT_BYTES)})
        except Exception as exc:  # noqa: BLE001 - an empty object answers 416; the rest is _retried's
            text = str(exc)
            if "Range" in text and ("416" in text or "not satisfiable" in text.lower()):
                raise _core.BigWigError(f"{url}: an empty object is not a bigWig") from exc
            raise
        data = await result.bytes_async()
        size = int(result.meta["size"])
        if len(data) != min(FRONT_BYTES, size):
            return None, f"{len(data)} bytes came back for {min(FRONT_BYTES, size)}"
        return (bytes(data), size, result.meta.get("e_tag") or ""), None

    return await _retried(url, None, 0, FRONT_BYTES, settings, once)


# --- Finding files ----------------------------------------------------------------------------


def find_urls(
    url: str, extensions: tuple[str, ...], crawl: bool, storage_options: Mapping[str, Any] | None
) -> list[RemoteUrl]:
    """The files one URL names: itself when its name ends in one of `extensions`, else the objects
    under it (a bucket prefix, or an HTTP directory's index page) whose names do, in its
    subfolders too when `crawl`; sorted. FileNotFoundError when nothing is there."""
    if RemoteUrl(url).name.endswith(extensions):
        return [RemoteUrl(url)]
    settings = settings_from(storage_options)
    scheme = urlsplit(url).scheme.lower()
    base = url if url.endswith("/") else url + "/"
    if scheme in ("http", "https"):
        found = _http_listing(base, extensions, crawl, settings)
    else:
        found = _store_listing(base, extensions, crawl, settings)
    return sorted(found)


def _store_listing(base: str, extensions: tuple[str, ...], crawl: bool, settings: Settings) -> list[RemoteUrl]:
    obstore = _obstore()
    store, prefix = _stores.locate(base, settings)
    root = base[: len(base) - len(prefix)] if prefix else base
    try:
        if crawl:
            metas = [m for chunk in obstore.list(store, prefix=prefix or None) for m in chunk]
        else:
            metas = obstore.list_with_delimiter(store, prefix=prefix or None)["objects"]
    except Exception as exc:  # noqa: BLE001 - typed below
        raise _permanent_error(exc, base, None) or RemoteReadError(f"{base}: cannot list: {_cause(exc)}") from exc
    return [RemoteUrl(root + m["path"]) for m in metas if m["path"].endswith(extensions)]


_HREF = re.compile(r'href="([^"?#]+)"', re.IGNORECASE)


def _http_listing(base: str, extensions: tuple[str, ...], crawl: bool, settings: Settings) -> list[RemoteUrl]:
    """The files an HTTP directory's index page (nginx's or Apache's autoindex) links to."""
    # The page itself comes with the standard library's client: index pages are often sent chunked,
    # without the Content-Length that obstore's HTTP store insists on.
    import urllib.error
    import urllib.request

    found: list[RemoteUrl] = []
    pending, seen = [base], {base}
    while pending:
        page = pending.pop()
        _check_not_forked_after_use(page)
        try:
            with urllib.request.urlopen(page, timeout=settings.timeout) as response:
                html = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise FileNotFoundError(f"{page}: no such directory ({exc.code} {exc.reason})") from exc
            if exc.code in (401, 403):
                raise PermissionError(f"{page}: access refused ({exc.code} {exc.reason})") from exc
            raise RemoteReadError(f"{page}: cannot list: {exc.code} {exc.reason}") from exc
        except OSError as exc:
            raise RemoteReadError(f"{page}: cannot list: {exc}") from exc
        for href in _HREF.findall(html):
            target = urljoin(page, href)
            if not target.startswith(page) or target == page:
                continue  # the parent directory, or another site
            if target.endswith("/"):
                if crawl and target not in seen:
                    seen.add(target)
                    pending.append(target)
            elif target.endswith(extensions):
                found.append(RemoteUrl(target))
    return found


# --- Remote files kept locally (a reference genome) ---------------------------------------------


#: Where local copies of remote files go: $BIGWIG_LOADER_CACHE, else ~/.cache/bigwig-loader.
def cache_directory() -> Path:
    root = os.environ.get("BIGWIG_LOADER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bigwig-loader"
    )
    return Path(root) / "remote"


#: A local copy is fetched in pieces of this size, several at once (each its own request with
#: its own timeout, so a large genome is not one request that a timeout cuts).
_PIECE_BYTES = 16 << 20


def local_copy(url: str, storage_options: Mapping[str, Any] | None = None, progress: bool | None = None) -> Path:
    """A local copy of the object at `url`, fetched once into cache_directory() and fetched again
    only when the object's ETag (or size) differs from the copy's; a progress bar on stderr while
    fetching (by default when stderr is a terminal). The copy is written under a temporary name
    and renamed, so an interrupted fetch leaves no partial file behind."""
    import hashlib
    import sys
    import tempfile

    settings = settings_from(storage_options)
    store, key = _stores.locate(url, settings)
    try:
        meta = _obstore().head(store, key)
    except Exception as exc:  # noqa: BLE001 - typed below
        raise _permanent_error(exc, url, None) or RemoteReadError(f"{url}: {_cause(exc)}") from exc
    size, etag = int(meta["size"]), meta.get("e_tag") or ""
    folder = cache_directory() / hashlib.sha256(url.encode()).hexdigest()[:16]
    target = folder / (RemoteUrl(url).name or "object")
    stamp = target.with_name(target.name + ".etag")
    if target.is_file() and target.stat().st_size == size and stamp.is_file() and stamp.read_text() == etag and etag:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.")
    try:
        with (
            os.fdopen(handle, "wb") as out,
            tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                desc=f"fetching {RemoteUrl(url).name}",
                disable=not show,
                file=sys.stderr,
            ) as bar,
        ):
            out.truncate(size)

            async def pieces() -> None:
                async def piece(start: int) -> None:
                    end = min(size, start + _PIECE_BYTES)
                    data = await _get_range(store, key, url, etag or None, start, end, settings)
                    os.pwrite(out.fileno(), memoryview(data), start)
                    bar.update(end - start)

                await _all([piece(start) for start in range(0, size, _PIECE_BYTES)])

            _loop.run(pieces)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    stamp.write_text(etag)
    return target

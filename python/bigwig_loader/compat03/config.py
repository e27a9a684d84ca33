"""Where bigwig-loader keeps the example data and the demo's data, as bigwig-loader 0.3 named it.

    from bigwig_loader import config
    config.bigwig_dir          # folder of the example bigWig files
    config.reference_genome    # the example FASTA (GRCh38, no alt contigs)
    config.example_positions   # a TSV of example window centres (columns chr, center)

Every attribute is read from the environment when asked for (so a change to the environment,
in a test or a notebook, takes effect at once), with the prefix ``BIGWIG_LOADER_``: for
``bigwig_dir`` the variable ``BIGWIG_LOADER_BIGWIG_DIR`` (0.3's lowercase spelling,
``bigwig_loader_bigwig_dir``, works too). ``~`` and ``$VARIABLES`` in paths are expanded.
Assigning an attribute (``config.bigwig_dir = Path("tracks")``) fixes it for this process, and
the defaults derived from it follow.

Defaults live under one cache folder: ``$BIGWIG_LOADER_CACHE_DIR``, else
``$XDG_CACHE_HOME/bigwig-loader``, else ``~/.cache/bigwig-loader``; the paths derived from
another (``bigwig_dir`` from ``example_data_dir``, ...) follow its override.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "BIGWIG_LOADER_"

ENCODE_BASE_URL = "https://www.encodeproject.org/"
_GENOME = "GRCh38_no_alt_analysis_set_GCA_000001405.15"


@dataclasses.dataclass(frozen=True)
class Settings:
    """One reading of the configuration (see the module's documentation)."""

    #: The folder every default below lives in.
    cache_dir: Path
    #: The example data downloaded by ``bigwig_loader.download_example_data``.
    example_data_dir: Path
    #: The example bigWig files.
    bigwig_dir: Path
    #: The example reference genome (uncompressed FASTA; its ``.gz`` is downloaded beside it).
    reference_genome: Path
    #: Example window centres, a TSV with columns ``chr`` and ``center`` (0.3's file).
    example_positions: Path
    #: Where the reference genome is downloaded from.
    reference_genome_url: str
    #: MD5 of the uncompressed reference genome.
    reference_genome_checksum: str
    #: The synthetic dataset and the outputs of ``bigwig-loader demo``.
    demo_dir: Path

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
    ) -> Settings:
        """The settings from `environ` (default: os.environ); `overrides` (field: value) win over
        the environment, and the defaults derived from an overridden field follow it."""
        env = os.environ if environ is None else environ
        fixed = dict(overrides or {})

        def value(name: str) -> str | None:
            if name in fixed:
                return os.fspath(fixed[name])  # type: ignore[arg-type]
            for key in (ENV_PREFIX + name.upper(), ENV_PREFIX.lower() + name):
                if env.get(key):
                    return env[key]
            return None

        def path(name: str, default: Path) -> Path:
            given = value(name)
            return default if given is None else Path(os.path.expanduser(os.path.expandvars(given)))

        cache_root = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bigwig-loader"
        cache_dir = path("cache_dir", cache_root)
        example_data_dir = path("example_data_dir", cache_dir / "example_data")
        return cls(
            cache_dir=cache_dir,
            example_data_dir=example_data_dir,
            bigwig_dir=path("bigwig_dir", example_data_dir / "bigwig"),
            reference_genome=path("reference_genome", example_data_dir / f"{_GENOME}.fasta"),
            example_positions=path("example_positions", example_data_dir / "some_positions.tsv"),
            reference_genome_url=value("reference_genome_url")
            or f"{ENCODE_BASE_URL}files/{_GENOME}/@@download/{_GENOME}.fasta.gz",
            reference_genome_checksum=value("reference_genome_checksum") or "a6da8681616c05eb542f1d91606a7b2f",
            demo_dir=path("demo_dir", cache_dir / "demo"),
        )

    def __str__(self) -> str:
        return "\n".join(f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self))


FIELDS = tuple(f.name for f in dataclasses.fields(Settings))


def settings() -> Settings:
    """The configuration now: the environment read afresh, with any attribute assigned on this
    module (``config.example_data_dir = ...``) taking precedence, the paths derived from it
    included."""
    assigned = {name: globals()[name] for name in FIELDS if name in globals()}
    return Settings.from_environment(overrides=assigned)


def __getattr__(name: str):
    # Reached only for names this module does not define: an assigned attribute is found
    # before this runs.
    if name in FIELDS:
        return getattr(settings(), name)
    raise AttributeError(f"module 'bigwig_loader.config' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(FIELDS))

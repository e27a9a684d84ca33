"""The example data of bigwig-loader 0.3, downloaded where ``bigwig_loader.config`` says:

    from bigwig_loader.compat03 import config
    from bigwig_loader.download_example_data import download_example_data

    download_example_data()   # reference genome, example bigWigs, example positions
    config.bigwig_dir, config.reference_genome, config.example_positions

The same public files 0.3 downloads (the GRCh38 reference of ENCODE, two ENCODE bigWig tracks
and a 128 bp methylation track) with the same checksums, plus 0.3's example positions. About
1 GB for the genome: for data that needs no download, see ``bigwig-loader demo``. Each file is
fetched once, resumably, with a progress bar, and checked (``bigwig_loader.download``).
``python -m bigwig_loader.download_example_data`` does the same from a shell.
"""

from __future__ import annotations

import gzip
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from bigwig_loader.compat03 import config
from bigwig_loader.download import ChecksumError, DownloadError, fetch, verify

__all__ = [
    "EXAMPLE_FILES",
    "download_example_data",
    "get_example_bigwigs_files",
    "get_example_positions",
    "get_reference_genome",
]


@dataclass(frozen=True)
class RemoteFile:
    url: str
    md5: str


#: The example bigWig files, by file name.
EXAMPLE_FILES = {
    "ENCFF270YCY.bigWig": RemoteFile(
        "https://www.encodeproject.org/files/ENCFF270YCY/@@download/ENCFF270YCY.bigWig",
        "64886b78f4cd70531fceffbaeafd4adb",
    ),
    "ENCFF270ISQ.bigWig": RemoteFile(
        "https://www.encodeproject.org/files/ENCFF270ISQ/@@download/ENCFF270ISQ.bigWig",
        "5fef60f9f1e43b9a17075c352650865e",
    ),
    "mc_Late_Childhood_GLU_BS.bins128.bw": RemoteFile(
        "https://brainome.ucsd.edu/emukamel/PEC_igv/binc_bigwig/mc_Late_Childhood_GLU_BS.bins128.bw",
        "fc4c48b0f8df80f6e7680df47c37142f",
    ),
}

#: 0.3's example window centres (chr, center), at the commit that last changed them.
EXAMPLE_POSITIONS = RemoteFile(
    "https://raw.githubusercontent.com/pfizer-opensource/bigwig-loader/"
    "b34da81a1651455ab9fee4d8bd0f6b25c86e130f/example_data/some_positions.tsv",
    "66e97c398263691f9d6a6e8781784202",
)


def download_example_data(progress: bool | None = None) -> None:
    """Downloads whatever of the example data is missing: the reference genome, the example
    bigWig files and the example positions (paths from ``bigwig_loader.config``)."""
    get_reference_genome(progress=progress)
    get_example_bigwigs_files(progress=progress)
    get_example_positions(progress=progress)


def get_reference_genome(
    reference_genome_path: str | os.PathLike[str] | None = None, *, progress: bool | None = None
) -> Path:
    """The example reference genome (default path: ``config.reference_genome``), downloaded as
    ``<path>.gz`` and unpacked when missing; the unpacked file's MD5 is checked either way.
    A ``<path>.gz`` put there by hand is unpacked and kept."""
    settings = config.settings()
    path = Path(reference_genome_path or settings.reference_genome)
    md5 = settings.reference_genome_checksum
    if path.exists():
        _check_present(path, md5, settings.reference_genome_url)
        return path
    compressed = fetch(settings.reference_genome_url, path.with_name(path.name + ".gz"), None, progress=progress)
    unpacked = path.with_name(path.name + ".part")
    try:
        _gunzip(compressed, unpacked, _show(progress))
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError; a cut-off stream an EOFError
        unpacked.unlink(missing_ok=True)
        raise DownloadError(f"{compressed}: cannot unpack it ({e}): remove it and run again") from None
    try:
        verify(unpacked, md5)
    except ChecksumError as e:
        unpacked.unlink()
        raise ChecksumError(
            f"{e}: unpacked from {compressed}, which is not the expected genome: remove it and run again"
        ) from None
    os.replace(unpacked, path)
    return path


def get_example_bigwigs_files(
    bigwig_dir: str | os.PathLike[str] | None = None, *, progress: bool | None = None
) -> Path:
    """The folder of the example bigWig files (default: ``config.bigwig_dir``), with each one
    downloaded when missing and checked. Other files in the folder are left alone."""
    directory = Path(bigwig_dir or config.settings().bigwig_dir)
    for name, remote in EXAMPLE_FILES.items():
        fetch(remote.url, directory / name, remote.md5, progress=progress)
    return directory


def get_example_positions(path: str | os.PathLike[str] | None = None, *, progress: bool | None = None) -> Path:
    """0.3's example positions, a TSV with columns ``chr`` and ``center`` (default path:
    ``config.example_positions``), downloaded when missing and checked."""
    return fetch(
        EXAMPLE_POSITIONS.url,
        Path(path or config.settings().example_positions),
        EXAMPLE_POSITIONS.md5,
        progress=progress,
    )


def _check_present(path: Path, md5: str, url: str) -> None:
    try:
        verify(path, md5)
    except ChecksumError as e:
        raise ChecksumError(f"{e}: remove it, or replace it with the unpacked {url}") from None


def _gunzip(source: Path, destination: Path, progress: bool) -> None:
    with (
        open(source, "rb") as raw,
        gzip.GzipFile(fileobj=raw) as unpacking,
        open(destination, "wb") as out,
        tqdm(
            total=source.stat().st_size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"unpacking {source.name}",
            disable=not progress,
            file=sys.stderr,
        ) as bar,
    ):
        done = 0
        for chunk in iter(lambda: unpacking.read(1 << 20), b""):
            out.write(chunk)
            bar.update(raw.tell() - done)
            done = raw.tell()


def _show(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def main() -> None:
    """``python -m bigwig_loader.download_example_data``: downloads, then prints the settings."""
    download_example_data()
    print(config.settings())


if __name__ == "__main__":
    main()

"""The documentation cannot fall behind the code: every parameter of BigWigDataset is named in
its docstring, and every parameter of every public class and function, every public name and
every command-line option in its entry of docs/REFERENCE.md."""

from __future__ import annotations

import argparse
import inspect
import re
from pathlib import Path

import pytest

import bigwig_loader as bwl
from bigwig_loader import cli
from bigwig_loader.pytorch import PytorchBigWigDataset

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "REFERENCE.md"

# Each entry of REFERENCE.md (its heading) and what it documents.
ENTRIES = {
    "BigWig": bwl.BigWig,
    "BigWig.values": bwl.BigWig.values,
    "BigWig.intervals": bwl.BigWig.intervals,
    "BigWigCollection": bwl.BigWigCollection,
    "BigWigCollection.get_batch": bwl.BigWigCollection.get_batch,
    "BigWigCollection.intervals": bwl.BigWigCollection.intervals,
    "BigWigCollection.preload": bwl.BigWigCollection.preload,
    "BigWigCollection.get_chromosomes_present_in_all_files": bwl.BigWigCollection.get_chromosomes_present_in_all_files,
    "StreamedDataloader": bwl.StreamedDataloader,
    "BigWigDataset": bwl.BigWigDataset,
    "ReferenceGenome": bwl.ReferenceGenome,
    "ReferenceGenome.fetch": bwl.ReferenceGenome.fetch,
    "ReferenceGenome.fetch_usable": bwl.ReferenceGenome.fetch_usable,
    "one_hot": bwl.one_hot,
    "BigWigWriter": bwl.BigWigWriter,
    "BigWigWriter.add_values": bwl.BigWigWriter.add_values,
    "BigWigWriter.add_intervals": bwl.BigWigWriter.add_intervals,
    "write_bigwig": bwl.write_bigwig,
    "RandomPositionSampler": bwl.RandomPositionSampler,
    "TrackSampler": bwl.TrackSampler,
    "GenomicSequenceSampler": bwl.GenomicSequenceSampler,
    "QueryBatchGenerator": bwl.QueryBatchGenerator,
    "Batch": bwl.Batch,
}


def parameters(obj: object) -> list[str]:
    """The parameters a caller passes (not self, *args or **kwargs), in signature order."""
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in inspect.signature(obj).parameters.values() if p.name != "self" and p.kind not in variadic]


def section(heading: str) -> str:
    """The text of the entry headed ``## `heading` `` or ``### `heading` ``, up to the next heading."""
    text = REFERENCE.read_text()
    match = re.search(rf"^#{{2,3}} `{re.escape(heading)}`\n(.*?)(?=^#{{2,3}} |\Z)", text, re.M | re.S)
    assert match, f"docs/REFERENCE.md has no entry headed `{heading}`"
    return match.group(1)


def table_rows(heading: str) -> list[str]:
    """The names in the first column of the entry's table, in order."""
    return re.findall(r"^\| `([^`]+)` \|", section(heading), re.M)


@pytest.mark.parametrize("heading", ENTRIES)
def test_every_parameter_is_in_the_reference(heading: str) -> None:
    assert table_rows(heading) == parameters(ENTRIES[heading])  # all of them, in signature order


def test_every_parameter_of_bigwigdataset_is_in_its_docstring() -> None:
    doc = inspect.getdoc(bwl.BigWigDataset)
    entries = re.findall(r"^    (\w+): ", doc, re.M)  # the Args list: one entry per parameter
    assert entries == parameters(bwl.BigWigDataset)
    assert "0.3's documentation" not in doc and "see its documentation" not in doc


def test_pytorch_dataset_takes_and_points_to_bigwigdataset_parameters() -> None:
    assert parameters(PytorchBigWigDataset) == parameters(bwl.BigWigDataset)
    doc = inspect.getdoc(PytorchBigWigDataset)
    assert "BigWigDataset's parameters" in doc and "docs/REFERENCE.md" in doc
    assert "It takes exactly `BigWigDataset`'s parameters" in section("PytorchBigWigDataset")


def test_every_public_name_is_in_the_reference() -> None:
    text = REFERENCE.read_text()
    missing = [name for name in [*bwl.__all__, "CudaTensor"] if f"`{name}" not in text]
    assert missing == []


def _commands() -> dict[str, argparse.ArgumentParser]:
    subparsers = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_line_option_is_in_the_reference(command: str) -> None:
    parser = _commands()[command]
    documented = set(table_rows(command))
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        names = [o for o in action.option_strings if o.startswith("--")] or [action.metavar or action.dest]
        assert set(names) <= documented, f"{command}: {names} not in docs/REFERENCE.md"

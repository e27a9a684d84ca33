"""The documentation cannot fall behind the code: every parameter of BigWigDataset is named in
its docstring."""

from __future__ import annotations

import inspect
import re

import bigwig_loader as bwl
from bigwig_loader.pytorch import PytorchBigWigDataset


def parameters(obj: object) -> list[str]:
    """The parameters a caller passes (not self, *args or **kwargs), in signature order."""
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p.name for p in inspect.signature(obj).parameters.values() if p.name != "self" and p.kind not in variadic]


def test_every_parameter_of_bigwigdataset_is_in_its_docstring() -> None:
    doc = inspect.getdoc(bwl.BigWigDataset)
    entries = re.findall(r"^    (\w+): ", doc, re.M)  # the Args list: one entry per parameter
    assert entries == parameters(bwl.BigWigDataset)
    assert "0.3's documentation" not in doc and "see its documentation" not in doc


def test_pytorch_dataset_takes_and_points_to_bigwigdataset_parameters() -> None:
    assert parameters(PytorchBigWigDataset) == parameters(bwl.BigWigDataset)
    doc = inspect.getdoc(PytorchBigWigDataset)
    assert "BigWigDataset's parameters" in doc and "docs/REFERENCE.md" in doc

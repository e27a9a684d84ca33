"""bigwig-loader 0.3's import path of :class:`StreamedDataloader` (``bigwig_loader.streamed_dataset``)."""

from bigwig_loader.streamed_dataloader import StreamedDataloader

__all__ = ["StreamedDataloader"]

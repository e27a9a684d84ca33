"""The demo's model: a small convolutional network from one-hot DNA to binned track profiles.

    (batch, sequence_length, 4) one-hot
      -> Conv1d(4, filters, 19), ReLU                   motif detectors, one per base
      -> MaxPool1d(bin)                                 to the output's resolution
      -> residual dilated Conv1d (dilation 1, 2, 4, 8)  context: about ±300 bp
      -> the centre `out_bins` bins, Conv1d(1x1)
    -> (batch, out_bins, n_tracks): the log of the expected signal

The output is a log rate, trained with a Poisson loss on it (``log_input=True``): unlike a
softplus or ReLU output, an exp link cannot die when a first large step pushes every bin
towards zero. A ChromBPNet-like shape made small enough to train in a minute on two CPU cores.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ProfileModel(nn.Module):
    def __init__(
        self,
        n_tracks: int,
        out_bins: int,
        bin_size: int,
        filters: int = 48,
        channels: int = 32,
        mean_signal: float = 0.2,
    ) -> None:
        super().__init__()
        self.out_bins = out_bins
        self.motifs = nn.Conv1d(4, filters, kernel_size=19, padding=9)
        self.pool = nn.MaxPool1d(bin_size)
        self.mix = nn.Conv1d(filters, channels, kernel_size=1)
        self.context = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size=5, dilation=d, padding=2 * d) for d in (1, 2, 4, 8)
        )
        self.head = nn.Conv1d(channels, n_tracks, kernel_size=1)
        # Start at the typical signal, so the first steps learn shapes rather than the level.
        nn.init.constant_(self.head.bias, math.log(mean_signal))

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.motifs(sequences.transpose(1, 2)))
        x = torch.relu(self.mix(self.pool(x)))
        for conv in self.context:
            x = x + torch.relu(conv(x))
        crop = (x.shape[-1] - self.out_bins) // 2
        x = x[..., crop : crop + self.out_bins]
        return self.head(x).transpose(1, 2)

    def predict(self, sequences: torch.Tensor) -> torch.Tensor:
        """The expected signal (batch, out_bins, n_tracks), non-negative."""
        return self(sequences).exp()

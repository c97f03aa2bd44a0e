"""The serve-point prior: features (N, PRIOR_DIM) -> P(server wins a point), MLP 128-64-1 SiLU."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from engine.features.prior_schema import PRIOR_DIM


class PriorMLP(nn.Module):
    def __init__(self, inputs: int = PRIOR_DIM, hidden: tuple[int, int] = (128, 64)) -> None:
        super().__init__()
        self.hidden = hidden
        self.net = nn.Sequential(
            nn.Linear(inputs, hidden[0]),
            nn.SiLU(),
            nn.Linear(hidden[0], hidden[1]),
            nn.SiLU(),
            nn.Linear(hidden[1], 1),
        )

    def logits(self, x: Tensor) -> Tensor:
        out: Tensor = self.net(x).squeeze(-1)
        return out

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(self.logits(x))

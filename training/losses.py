"""Emulator loss (blueprint §6, DESIGN.md §5).

total = weighted MSE(price) + nll_weight · weighted Gaussian NLL(log-variance) + 0.1 · BCE(distress)

* MSE on the price, each point weighted by the MTO loss mask: 0.2 for the first 10 points after a
  medical time-out (pts_since_mto 0…9), then rising linearly to 1 by point 20
  (w = 0.2 + 0.08 · (k − 10) for 10 ≤ k ≤ 20), 1 afterwards and when there was no MTO. Padding
  points (mask 0) weigh nothing.
* Gaussian NLL ½(logvar + (y − p̂)²·e^(−logvar)) for the log-variance head, with p̂ DETACHED (and
  the head reading detached features, see models.Heads): it estimates the error variance without
  changing the price fit. logvar is clamped to [−20, 5] for numerical safety.
* BCE-with-logits on the distress flag, over the valid points, with λ = 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import torch
from torch import Tensor

MTO_LOW_WEIGHT: Final = 0.2
MTO_FLAT_POINTS: Final = 10
MTO_FULL_AT: Final = 20
DISTRESS_WEIGHT: Final = 0.1
LOGVAR_MIN: Final = -20.0
LOGVAR_MAX: Final = 5.0


def mto_loss_weight(pts_since_mto: Tensor) -> Tensor:
    """Per-point price-loss weight from the points since the last MTO (≥ 99 or no MTO → 1)."""
    k = pts_since_mto.to(torch.float32)
    ramp = MTO_LOW_WEIGHT + (1.0 - MTO_LOW_WEIGHT) * (k - MTO_FLAT_POINTS) / (
        MTO_FULL_AT - MTO_FLAT_POINTS
    )
    return ramp.clamp(min=MTO_LOW_WEIGHT, max=1.0)


@dataclass(frozen=True, slots=True)
class LossParts:
    total: Tensor
    mse: Tensor
    nll: Tensor
    bce: Tensor


def emulator_loss(
    price: Tensor,
    logvar: Tensor,
    distress_logit: Tensor,
    *,
    y: Tensor,
    distress: Tensor,
    mask: Tensor,
    pts_since_mto: Tensor,
    nll_weight: float = 1.0,
    distress_weight: float = DISTRESS_WEIGHT,
) -> LossParts:
    """All inputs (N, T); mask is 1 on real points, 0 on padding."""
    valid = mask.to(torch.float32)
    weight = valid * mto_loss_weight(pts_since_mto)
    weight_sum = weight.sum().clamp(min=1e-8)
    valid_sum = valid.sum().clamp(min=1e-8)
    mse = (weight * (price - y) ** 2).sum() / weight_sum
    lv = logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)
    squared = (y - price.detach()) ** 2
    nll = (weight * 0.5 * (lv + squared * torch.exp(-lv))).sum() / weight_sum
    bce_each = torch.nn.functional.binary_cross_entropy_with_logits(
        distress_logit, distress, reduction="none"
    )
    bce = (valid * bce_each).sum() / valid_sum
    total = mse + nll_weight * nll + distress_weight * bce
    return LossParts(total=total, mse=mse, nll=nll, bce=bce)

"""Every tunable number of the corpus: synthetic-event rates and the market simulator's model.

The corpus is offline (no engine.toml section): a build takes `CorpusParams()` with these
documented defaults, and `match.json` records the values each match was built with.

Where a number was measured on the real in-play tennis file
(../shared/data/betfair/historical/tennis_wimbledon2018_1.145329255.bz2, in-play OPEN part, see
`replay.corpus.facts`) the comment says "real file"; where it is an assumption it says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class EventParams:
    """Synthetic events injected into the real point sequences (flagged in match.json)."""

    # MTO: no per-match MTO statistics exist in the data; retirements are 1.4% of the slam matches
    # (49 / 3,538 in matches.csv) and most MTOs do not end in retirement, so we assume about five
    # times that: 7% of matches get one MTO. A retirement is preceded by an MTO of the retiring
    # player with probability 0.6 (assumption: treatment is usually tried first).
    mto_match_prob: float = 0.07
    mto_before_retirement_prob: float = 0.6
    # Grand Slam rule book: 3 minutes of treatment after the evaluation; with the evaluation and
    # the walk-on, play stops for 4-8 minutes (uniform).
    mto_min_s: float = 240.0
    mto_max_s: float = 480.0
    # Hidden-truth effect: the treated player's serve-point probability drops by this much for the
    # rest of the match (DESIGN §10's what-if uses 5 pp; we assume 4 pp).
    mto_serve_drop: float = 0.04
    # Rain/bad light (assumption, order of magnitude of slam weather days; AO and Wimbledon main
    # courts had roofs in 2011-2015, Roland Garros and the US Open did not):
    rain_match_prob: dict[str, float] = field(
        default_factory=lambda: {
            "ausopen": 0.02,
            "frenchopen": 0.06,
            "wimbledon": 0.07,
            "usopen": 0.05,
        }
    )
    rain_median_s: float = 2700.0
    rain_log_sd: float = 0.8
    rain_min_s: float = 600.0
    rain_max_s: float = 14400.0
    # Bad light stops play overnight at the non-floodlit slams; we only model the suspension
    # (the match would continue next day) as a long stop in a deciding set.
    bad_light_match_prob: float = 0.005
    bad_light_s: float = 50400.0
    # A real gap between points of at least this long (source clock) is a stoppage: it becomes a
    # suspend/resume pair with reason "other", flagged as inferred.
    inferred_stop_min_s: float = 600.0


@dataclass(frozen=True, slots=True)
class MarketParams:
    """The simulated market's price model and ladder shape."""

    # -- hidden truth: serve-point probabilities = de-vigged line + per-match noise (assumption:
    # the bookmaker line misses the truth by ~1.5 pp of serve-point probability per player).
    truth_noise_sd: float = 0.015
    # -- price model (assumptions, documented in README section corpus)
    flb_lambda: float = 0.94  # market logit = lambda * fair logit: longshots overbet
    lag_median_s: float = 1.2  # market starts repricing this long after the score tick
    lag_log_sd: float = 0.5
    reprice_tau_s: float = 2.5  # then closes the gap exponentially with this time constant
    break_overreaction: float = 0.35  # extra share of the fair move added on a break of serve
    overreaction_decay: float = 0.6  # per point, the over-reaction decays by this factor
    noise_sd_per_sqrt_s: float = 0.0012  # logit noise, Ornstein-Uhlenbeck diffusion
    noise_half_life_s: float = 40.0
    mto_noise_mult: float = 3.0
    mto_anticipation: float = 0.5  # share of the true MTO effect priced in at the time-out
    mto_learning_points: int = 12  # serve points of the injured player until fully priced
    # -- message process: inter-message times follow the real file's distribution (quantiles)
    dt_quantiles: tuple[float, ...] = (
        0.05, 0.091, 0.104, 0.107, 0.109, 0.111, 0.127, 0.181, 0.212, 0.218, 0.272,
        0.308, 0.325, 0.387, 0.436, 0.529, 0.638, 0.804, 1.01, 1.438, 3.0,
    )  # fmt: skip
    preplay_s: float = 1800.0
    preplay_rate_mult: float = 0.25  # pre-play books update less often (assumption)
    inplay_before_first_point_s: tuple[float, float] = (60.0, 240.0)  # warm-up
    close_after_end_s: tuple[float, float] = (40.0, 100.0)  # real file: 79 s
    # -- message mix (real file): 36% of messages carry a trade (we draw one in 42% of the
    # steps that are not requotes); 45% of ladder-level updates touch a best level; 64% of them
    # are on the favourite's book.
    trade_prob: float = 0.42
    best_touch_prob: float = 0.45
    fav_touch_prob: float = 0.64
    extra_levels_prob: float = 0.27  # a message updates more than one level
    # -- spreads: favourite spread is 1 tick 96% of the time (real file); a wider quote persists
    # until the next requote, so the per-requote probability of extra ticks is lower than 4%
    fav_extra_spread_prob: float = 0.005
    # the underdog's spread in ticks (real file pmf; 9+ ticks lumped at 10 and 14)
    dog_spread_ticks: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 10, 14)
    dog_spread_pmf: tuple[float, ...] = (
        0.275, 0.19, 0.162, 0.121, 0.063, 0.046, 0.041, 0.029, 0.04, 0.033,
    )  # fmt: skip
    # -- depth: payout at best (size x (price - 1)); real-file medians are 2,497 / 1,694 / 762 /
    # 246; the posted sizes are higher because trades and churn eat into the best levels
    payout_fav_back: float = 3000.0
    payout_fav_lay: float = 2000.0
    payout_dog_back: float = 1500.0
    payout_dog_lay: float = 600.0
    payout_log_sd: float = 1.5
    # presence of a level 1..10 ticks behind the best (real file, mean over the in-play part)
    fill_fav_back: float = 0.98
    fill_fav_lay: float = 0.92
    fill_dog_back: float = 0.32
    fill_dog_lay: float = 0.49
    deep_payout_ratio: float = 0.6  # deeper levels' payout relative to the best level's median
    depth_ticks: int = 25  # levels kept behind the best on each side
    # trade sizes (£, real file quantiles 10/25/50/75/90/99%)
    trade_size_quantiles: tuple[float, ...] = (1.24, 4.56, 19.8, 120.7, 796.6, 10046.0)
    # liquidity by round, relative to the real file's R16 men's match (assumption)
    round_liquidity: dict[str, float] = field(
        default_factory=lambda: {
            "R128": 0.35,
            "R64": 0.45,
            "R32": 0.65,
            "R16": 1.0,
            "QF": 1.5,
            "SF": 2.2,
            "F": 3.5,
        }
    )
    wta_liquidity: float = 0.6
    # -- regimes
    mto_spread_extra: int = 2
    mto_depth_mult: float = 0.3
    collapse_rate_per_h: float = 0.5
    collapse_min_s: float = 20.0
    collapse_max_s: float = 120.0
    collapse_depth_mult: float = 0.1
    collapse_spread_extra: int = 3
    spoof_rate_per_h: float = 4.0
    spoof_payout_mult: float = 15.0
    spoof_min_s: float = 2.0
    spoof_max_s: float = 15.0
    suspended_rate_mult: float = 0.3  # updates while play is suspended (rain)


@dataclass(frozen=True, slots=True)
class CorpusParams:
    """All parameters of one corpus build."""

    events: EventParams = field(default_factory=EventParams)
    market: MarketParams = field(default_factory=MarketParams)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

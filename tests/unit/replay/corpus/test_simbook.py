"""The simulator's book records exactly the deltas that rebuild it."""

from __future__ import annotations

from engine.market.ticks import tick_index
from replay.corpus.simbook import SimBook


def test_levels_trades_and_flush():
    # Arrange
    book = SimBook((11, 22))
    back = tick_index(1.5)

    # Act
    book.set_level(11, "atb", back, 10.004)
    book.set_level(11, "atl", back + 1, 5.0)
    first = book.flush()
    book.set_level(11, "atb", back, 10.0)  # same size after rounding: no change
    book.trade(11, back, 4.0)
    book.set_level(11, "atb", back, 6.0)
    book.set_level(11, "atl", back + 1, 0.0)
    second = book.flush()

    # Assert
    assert first == [{"id": 11, "atb": [[1.5, 10.0]], "atl": [[1.51, 5.0]]}]
    assert second == [
        {
            "id": 11,
            "atb": [[1.5, 6.0]],
            "atl": [[1.51, 0.0]],
            "trd": [[1.5, 4.0]],
            "ltp": 1.5,
            "tv": 4.0,
        }
    ]
    assert book.best_view() == ((1.5, 6.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0))
    assert not book.has_pending


def test_image_lists_every_level_best_first():
    book = SimBook((1, 2))
    for price, size in ((1.5, 3.0), (1.49, 4.0)):
        book.set_level(1, "atb", tick_index(price), size)
    image = book.flush(image=True)
    assert image[0]["atb"] == [[1.5, 3.0], [1.49, 4.0]]
    assert image[1] == {"id": 2, "atb": [], "atl": []}

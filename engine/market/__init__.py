"""Market-side core types: the Betfair price ladder and (later) the order-book cache."""

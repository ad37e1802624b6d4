"""ecartpay-async: the async Ecart Pay SDK (work in progress)."""

"""``python -m ecartpay_async``: the same command as ``ecartpay-async``."""

from .cli import main

if __name__ == "__main__":
    main(prog_name="ecartpay-async")

"""The command line, ``ecartpay-async``: commands, the progress display, report writers."""

from .app import main

__all__ = ["main"]

"""``python -m ecartpay_async.sandbox serve ...``"""

from .cli import sandbox_group

sandbox_group(prog_name="python -m ecartpay_async.sandbox")

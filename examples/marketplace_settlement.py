"""Marketplace settlement: orders that pay sellers a split, and a receiver that trusts
only signed webhooks.

Run it against the built-in sandbox (no keys needed)::

    python examples/marketplace_settlement.py --sandbox

It starts a sandbox, serves the SDK's webhook receiver with uvicorn on 127.0.0.1,
registers it with ``client.webhooks.register`` for ``orders.*`` and ``transfer.*``,
creates orders with fixed and percentage splits, pays them as a customer would,
lets the receiver verify and hand over the signed webhooks, and prints what every
seller was paid next to what
:func:`ecartpay_async.splits.order_payout_amount_from_total` predicted. It exits 0
when every payout matched.

Against the live API, customers pay the orders' ``pay_link``; :func:`create_orders`
and :class:`Settlements` (its receiver served behind a public HTTPS URL, with your
account's webhook secret) are the parts to reuse.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import anyio
import attrs
import uvicorn

from ecartpay_async import AsyncClient, Payout
from ecartpay_async.models.orders import Order, OrderItem, OrderPayout
from ecartpay_async.money import quantize
from ecartpay_async.splits import order_payout_amount_from_total
from ecartpay_async.webhooks import DeliveryStore, WebhookEvent, WebhookReceiver

MERCHANT = "merchant@marketplace.example"
CUSTOMER = "65c41df54ec03a5080230789"  # the buyer, a customer of the merchant's account


@attrs.frozen
class Sale:
    """One order to create: what the customer buys and the seller's split."""

    label: str
    currency: str
    items: tuple[OrderItem, ...]
    payout: OrderPayout


SALES: tuple[Sale, ...] = (
    # The product page's table: total 1,000.00 MXN, fee 37.82, balance 962.18.
    Sale(
        "fixed 1000 (capped)",
        "MXN",
        (OrderItem("Brazalete BR3017", 1, "1000.00", "123"),),
        OrderPayout("ana@sellers.example", 1000),
    ),
    Sale(
        "1 %",
        "MXN",
        (OrderItem("Brazalete BR3017", 1, "1000.00", "123"),),
        OrderPayout("beto@sellers.example", 1, percent=True),
    ),
    Sale(
        "100 %",
        "MXN",
        (OrderItem("Brazalete BR3017", 1, "1000.00", "123"),),
        OrderPayout("carla@sellers.example", 100, percent=True),
    ),
    Sale(
        "fixed 250.00",
        "MXN",
        (OrderItem("Taza", 2, "349.90"), OrderItem("Envío", 1, "120")),
        OrderPayout("dario@sellers.example", "250.00"),
    ),
    Sale(
        "12.5 %",
        "CLP",
        (OrderItem("Poncho de Niño", 1, 25990),),
        OrderPayout("elena@sellers.example", "12.5", percent=True),
    ),
)


# -- the webhook receiver -------------------------------------------------------------

#: What the worker listens to: paid orders and the seller transfers they trigger.
EVENTS = ("orders.*", "transfer.*")


class Settlements:
    """The worker's view of verified webhooks: paid orders and seller transfers.

    ``receiver`` is the SDK's ASGI :class:`~ecartpay_async.webhooks.WebhookReceiver`:
    it verifies each delivery's signature (a forged one gets 401 and reaches no
    handler), runs the handlers below within Ecart Pay's 5-second budget, and
    acknowledges a redelivered webhook id without handling it twice. Give it a
    :class:`~ecartpay_async.webhooks.SQLiteDeliveryStore` to remember handled ids
    across restarts.
    """

    def __init__(self, secret: str, store: DeliveryStore | None = None) -> None:
        self.receiver = WebhookReceiver(secret, store=store)
        self._lock = threading.Lock()  # read from the caller's thread, written by the server's
        self._events: dict[str, WebhookEvent] = {}
        self.receiver.on("orders.confirmation", "transfer.created")(self._record)

    async def _record(self, event: WebhookEvent) -> None:
        with self._lock:
            self._events[event.id] = event

    def events(self, name: str) -> list[WebhookEvent]:
        with self._lock:
            return [e for e in self._events.values() if e.event == name]

    def confirmed_orders(self) -> dict[str, Order]:
        """Paid orders from verified ``orders.confirmation`` events, by order id."""
        events = self.events("orders.confirmation")
        return {e.data.id: e.data for e in events if isinstance(e.data, Order)}

    def seller_transfers(self) -> dict[str, Payout]:
        """Payouts from verified ``transfer.created`` events, by the order that made them."""
        payouts = [e.data for e in self.events("transfer.created") if isinstance(e.data, Payout)]
        return {p.extra["order_id"]: p for p in payouts if isinstance(p.extra.get("order_id"), str)}


@contextmanager
def serving(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn from a thread (so any event loop, or none, can
    call it); yields its URL. In production, run ``uvicorn module:receiver`` instead,
    behind HTTPS, or mount the receiver in your Starlette or FastAPI app."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, port))
    sock.listen()  # listening before uvicorn starts: early requests wait in the backlog
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


# -- the worker -----------------------------------------------------------------------


async def create_orders(client: AsyncClient, sales: Sequence[Sale]) -> list[Order]:
    """Create one order per sale, concurrently; the results in the sales' order."""
    orders: list[Order | None] = [None] * len(sales)

    async def create(index: int, sale: Sale) -> None:
        orders[index] = await client.orders.create(
            customer_id=CUSTOMER,
            currency=sale.currency,
            items=list(sale.items),
            payout=sale.payout,
        )

    async with anyio.create_task_group() as tg:
        for index, sale in enumerate(sales):
            tg.start_soon(create, index, sale)
    return [order for order in orders if order is not None]


async def wait_for(worker: Settlements, orders: Sequence[Order], timeout: float) -> None:
    """Until every order's confirmation and seller transfer arrived, verified."""
    wanted = {order.id for order in orders}
    with anyio.fail_after(timeout):
        while True:
            if wanted <= worker.confirmed_orders().keys() & worker.seller_transfers().keys():
                return
            await anyio.sleep(0.02)


@attrs.frozen
class Settlement:
    """What one seller got from one order, next to the prediction."""

    sale: Sale
    order: Order
    predicted: Decimal
    paid: Decimal

    @property
    def matches(self) -> bool:
        return self.predicted == self.paid


def settlements(
    worker: Settlements, sales: Sequence[Sale], orders: Sequence[Order]
) -> list[Settlement]:
    """Pair each order's verified confirmation (total, fee) with its seller's transfer."""
    confirmations = worker.confirmed_orders()
    transfers = worker.seller_transfers()
    out = []
    for sale, created in zip(sales, orders, strict=True):
        paid_order = confirmations[created.id]
        transfer = transfers[created.id]
        if paid_order.total is None or paid_order.fee is None:
            raise ValueError(f"order {paid_order.id} was confirmed without its total and fee")
        predicted = order_payout_amount_from_total(
            paid_order.total, paid_order.fee, sale.payout, currency=sale.currency
        )
        out.append(Settlement(sale, paid_order, predicted, transfer.amount))
    return out


def report(rows: Sequence[Settlement]) -> bool:
    header = f"{'order':<12} {'split':<20} {'cur':<4} {'total':>10} {'fee':>8} "
    print(header + f"{'predicted':>10} {'paid':>10}  seller")
    for row in rows:
        order = row.order
        mark = "ok" if row.matches else "MISMATCH"
        cur = row.sale.currency
        amounts = (order.total, order.fee, row.predicted, row.paid)
        total, fee, predicted, paid = (quantize(a or Decimal(0), cur) for a in amounts)
        print(
            f"{order.number or order.id:<12} {row.sale.label:<20} {cur:<4} {total:>10} {fee:>8} "
            f"{predicted:>10} {paid:>10}  {row.sale.payout.email} {mark}"
        )
    ok = bool(rows) and all(row.matches for row in rows)
    print("all sellers paid as predicted" if ok else "settlement mismatch")
    return ok


async def run_sandbox(sales: Sequence[Sale] = SALES, timeout: float = 30.0) -> bool:
    """The whole flow against a local sandbox; True when everything matched."""
    from ecartpay_async.sandbox import Sandbox

    async with Sandbox(email=MERCHANT, webhook_retry_scale=0.01) as sb:
        worker = Settlements(sb.webhook_secret)
        with serving(worker.receiver) as url:
            async with sb.client(account_email=MERCHANT) as client:
                await client.webhooks.register(url, EVENTS)
                orders = await create_orders(client, sales)
                for order in orders:
                    await sb.pay_order(order.id)  # the customer pays the pay_link
                await wait_for(worker, orders, timeout)
        return report(settlements(worker, sales, orders))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sandbox", action="store_true", help="run against a local sandbox")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for webhooks")
    args = parser.parse_args(argv)
    if not args.sandbox:
        parser.error("only --sandbox runs end to end from here: live orders are paid by customers")
    return 0 if anyio.run(run_sandbox, SALES, args.timeout) else 1


if __name__ == "__main__":
    sys.exit(main())

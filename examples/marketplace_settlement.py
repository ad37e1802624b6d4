"""Marketplace settlement: orders that pay sellers a split, and a receiver that trusts
only signed webhooks.

Run it against the built-in sandbox (no keys needed)::

    python examples/marketplace_settlement.py --sandbox

It starts a sandbox, serves a webhook receiver on 127.0.0.1, registers it for
``orders.*`` and ``transfer.*``, creates orders with fixed and percentage splits,
pays them as a customer would, waits for the signed webhooks, verifies each one,
and prints what every seller was paid next to what
:func:`ecartpay_async.splits.order_payout_amount_from_total` predicted. It exits 0
when every webhook verified and every payout matched.

Against the live API, customers pay the orders' ``pay_link``; :func:`create_orders`
and :class:`WebhookReceiver` (behind a public URL, with your account's webhook
secret) are the parts to reuse.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import attrs
import httpx

from ecartpay_async import AsyncClient, Payout
from ecartpay_async.errors import WebhookSignatureError
from ecartpay_async.models.orders import Order, OrderItem, OrderPayout
from ecartpay_async.money import quantize
from ecartpay_async.splits import order_payout_amount_from_total
from ecartpay_async.webhooks import WebhookEvent, verify_webhook

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


class WebhookReceiver:
    """A small HTTP server (one thread) that accepts only verified webhook deliveries.

    A delivery that verifies is answered 204 and kept (once per webhook id: Ecart Pay
    retries deliveries); one that does not is answered 401 and counted in
    ``rejected``, with the failed check. Use it as ``with WebhookReceiver(secret) as r``.
    """

    def __init__(self, secret: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self._secret = secret
        self._host = host
        self._lock = threading.Lock()
        self._events: dict[str, WebhookEvent] = {}
        self.rejected: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                status = receiver.receive(self.rfile.read(length), dict(self.headers.items()))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the example prints its own summary

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._server.server_port}/webhooks/ecartpay"

    def receive(self, body: bytes, headers: dict[str, str]) -> int:
        """Verify one delivery; the HTTP status to answer with."""
        try:
            event = verify_webhook(body, headers, self._secret)
        except WebhookSignatureError as exc:
            with self._lock:
                self.rejected.append(exc.check)
            return 401
        with self._lock:
            self._events.setdefault(event.id, event)
        return 204

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

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


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


async def register_webhook(base_url: str, public_key: str, private_key: str, url: str) -> None:
    """``POST /api/webhooks`` with plain httpx (the SDK has no webhooks resource)."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        answer = await http.post("/api/authorizations/token", auth=(public_key, private_key))
        answer.raise_for_status()
        token = answer.json()["token"]
        answer = await http.post(
            "/api/webhooks",
            json={"url": url, "events": ["orders.*", "transfer.*"]},
            headers={"Authorization": token},
        )
        answer.raise_for_status()


async def wait_for(receiver: WebhookReceiver, orders: Sequence[Order], timeout: float) -> None:
    """Until every order's confirmation and seller transfer arrived, verified."""
    wanted = {order.id for order in orders}
    with anyio.fail_after(timeout):
        while True:
            if wanted <= receiver.confirmed_orders().keys() & receiver.seller_transfers().keys():
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
    receiver: WebhookReceiver, sales: Sequence[Sale], orders: Sequence[Order]
) -> list[Settlement]:
    """Pair each order's verified confirmation (total, fee) with its seller's transfer."""
    confirmations = receiver.confirmed_orders()
    transfers = receiver.seller_transfers()
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


def report(rows: Sequence[Settlement], rejected: Sequence[str]) -> bool:
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
    if rejected:
        print(f"rejected deliveries: {', '.join(rejected)}")
    ok = bool(rows) and all(row.matches for row in rows) and not rejected
    print("all sellers paid as predicted" if ok else "settlement mismatch")
    return ok


async def run_sandbox(sales: Sequence[Sale] = SALES, timeout: float = 30.0) -> bool:
    """The whole flow against a local sandbox; True when everything matched."""
    from ecartpay_async.sandbox import Sandbox

    async with Sandbox(email=MERCHANT, webhook_retry_scale=0.01) as sb:
        with WebhookReceiver(sb.webhook_secret) as receiver:
            await register_webhook(sb.base_url, sb.public_key, sb.private_key, receiver.url)
            async with sb.client(account_email=MERCHANT) as client:
                orders = await create_orders(client, sales)
                for order in orders:
                    await sb.pay_order(order.id)  # the customer pays the pay_link
                await wait_for(receiver, orders, timeout)
            return report(settlements(receiver, sales, orders), receiver.rejected)


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

"""The listing checks every broker's `test_<family>_list.py` runs through its adapter against its simulator.

A venue's test module supplies a `Book`: credentials of a fresh account, a way to place an order (each one later
than the last by the simulator's clock), to fill and cancel one, and the adapter's upstream request counter."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ordergate.domain.integrations import OrderStatus
from ordergate.domain.orders import Credentials
from ordergate.venues.base import Adapter, OrderQuery


@dataclass
class Book:
    adapter: Adapter
    creds: Credentials
    place: Callable[[], str]
    fill: Callable[[str], None]
    cancel: Callable[[str], Awaitable[None]]
    requests: Callable[[], int]  # upstream requests the adapter has sent so far
    created: Callable[[str], int]  # an order's creation time (Unix seconds) at the venue
    venue_page: int = 100  # rows per page of the venue's own listing


async def walk(book: Book, count: int, **options: object) -> tuple[list[str], int]:
    """Every page from the first; (order ids in the order served, pages)."""
    ids: list[str] = []
    cursor = None
    for pages in range(1, 50):
        page = await book.adapter.list_orders(book.creds, OrderQuery(count=count, cursor=cursor, **options))  # type: ignore[arg-type]
        assert len(page.orders) <= count
        ids += [o.order_id for o in page.orders]
        cursor = page.cursor
        if cursor is None:
            return ids, pages
    raise AssertionError("the listing never ended")


async def empty_account(book: Book) -> None:
    page = await book.adapter.list_orders(book.creds, OrderQuery(count=100))
    assert page.orders == () and page.cursor is None


async def one_page(book: Book) -> None:
    placed = [book.place() for _ in range(3)]
    if book.venue_page < 3:  # the venue's own pages are smaller: one venue page per call, all reached
        ids, pages = await walk(book, 100)
        assert ids == placed[::-1] and pages == 2
        return
    page = await book.adapter.list_orders(book.creds, OrderQuery(count=100))
    assert [o.order_id for o in page.orders] == placed[::-1]
    assert page.cursor is None
    assert all(o.status is OrderStatus.inProgress for o in page.orders)


async def several_pages(book: Book) -> None:
    placed = [book.place() for _ in range(5)]
    ids, pages = await walk(book, 2)
    assert ids == placed[::-1]  # every order exactly once, newest first
    assert pages >= 3


async def statuses(book: Book) -> None:
    placed = [book.place() for _ in range(5)]
    book.fill(placed[0])
    await book.cancel(placed[1])
    book.fill(placed[3])
    before = book.requests()
    page = await book.adapter.list_orders(
        book.creds, OrderQuery(count=100, statuses=frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled}))
    )
    assert book.requests() - before == 1
    if book.venue_page >= 5:
        assert [o.order_id for o in page.orders] == [placed[4], placed[2]] and page.cursor is None
    live, _ = await walk(book, 100, statuses=frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled}))
    assert live == [placed[4], placed[2]]
    cancelled, _ = await walk(book, 100, statuses=frozenset({OrderStatus.cancelled}))
    assert cancelled == [placed[1]]
    filled, _ = await walk(book, 100, statuses=frozenset({OrderStatus.success}))
    assert filled == [placed[3], placed[0]]


async def since(book: Book) -> None:
    placed = [book.place() for _ in range(4)]
    ids, _ = await walk(book, 100, since=book.created(placed[2]))
    assert ids == [placed[3], placed[2]]

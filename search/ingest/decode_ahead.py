"""Decode-ahead: prepare the next images in a background thread while the model runs on the current batch.

Reading a file, hashing it and decoding the JPEG release the GIL (file I/O, hashlib, libjpeg), as does
torch's forward pass, so the two overlap instead of taking turns.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def computed_ahead(items: Iterable[T], work: Callable[[T], R], *, depth: int) -> Iterator[R]:
    """Yield `work(item)` for each item, in order, computed up to `depth` items ahead of the consumer."""
    results: queue.Queue[object] = queue.Queue(maxsize=max(depth, 1))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                results.put(work(item))
        except BaseException as exc:  # handed to the consumer, raised there
            results.put(_Raised(exc))
        finally:
            results.put(_DONE)

    producer = threading.Thread(target=produce, name="decode-ahead", daemon=True)
    producer.start()
    try:
        while (result := results.get()) is not _DONE:
            if isinstance(result, _Raised):
                raise result.exc
            yield result  # type: ignore[misc]
    finally:
        stop.set()
        while producer.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                results.get(timeout=0.05)

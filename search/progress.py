from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError
from tqdm import tqdm


@contextmanager
def progress_bar(*, total: int, description: str, unit: str = "img") -> Iterator[Callable[[int], None]]:
    """A progress bar with rate and ETA on stderr; yields its `update(n)`."""
    with tqdm(
        total=total, desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.5
    ) as bar:
        yield bar.update


INTERRUPTED = "Interrupted. The work done so far is kept; run the command again to finish the rest."


@contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C ends a long command with a short message instead of a traceback (exit status 130).

    Only for commands whose every step is committed on its own, so a second run picks up where this stopped.
    """
    try:
        yield
    except KeyboardInterrupt:
        raise CommandError(INTERRUPTED, returncode=130) from None

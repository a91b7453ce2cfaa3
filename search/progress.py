from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from tqdm import tqdm


@contextmanager
def progress_bar(*, total: int, description: str, unit: str = "img") -> Iterator[Callable[[int], None]]:
    """A progress bar with rate and ETA on stderr; yields its `update(n)`."""
    with tqdm(total=total, desc=description, unit=unit, file=sys.stderr, dynamic_ncols=True, mininterval=0.5) as bar:
        yield bar.update

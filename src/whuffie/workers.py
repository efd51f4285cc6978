"""Worker processes that die with their parent.

Ingest maps records and the voice step scores texts in pools of worker processes. A parent
killed by ``kill -9`` (or the out-of-memory killer) never shuts its pool down, and its workers
would otherwise live on, each holding its memory: every pool's initializer calls
:func:`die_with_parent` first.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

#: Seconds between a worker's checks that its parent is alive.
PARENT_POLL_S = 0.5


def die_with_parent(parent: int) -> None:
    """Make this worker exit when the process ``parent`` ends, even by ``kill -9``.

    Call it first in a pool's initializer, with the parent's pid passed from the parent.

    A killed parent never shuts its pool down, and forked workers hold both ends of the
    task pipe, so they would wait for tasks forever. On Linux the kernel kills the
    worker (``PR_SET_PDEATHSIG``); everywhere, a thread checks every
    :data:`PARENT_POLL_S` whether the worker has been handed to another parent.

    Examples
    --------
    >>> import multiprocessing
    >>> pool = multiprocessing.get_context("spawn").Pool(
    ...     2, initializer=die_with_parent, initargs=(os.getpid(),))  # doctest: +SKIP
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # a libc without prctl: the thread below still watches
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="whuffie-parent-watch", daemon=True).start()

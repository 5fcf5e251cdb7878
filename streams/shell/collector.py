"""CPython's cyclic garbage collector, set for a long-running worker.

By default the collector runs its youngest generation every 700 container allocations and,
now and then, a full collection that traverses every tracked object: Faust's, aiokafka's,
trafilatura's and the language model's, allocated at start and alive until exit, and the
index's and the story state's. A worker allocates thousands of short-lived containers an
article, most freed by reference counting, so it paid for ~3,000 young and ~24 full
collections every 20,000 articles. Measured on one worker on one core without its pool,
20,000 generated articles (BENCHMARKS.md, Notes, "The collector"): 4.2 s in the collector,
0.2 ms an article, 7 % of its CPU. Two changes:

* young collections every 10,000 allocations (:data:`THRESHOLDS`): fewer, larger ones, and
  what an article leaves behind is mostly freed before it is ever traversed;
* once the worker is ready (started, its index caught up), everything alive then is moved
  out of the collector's reach (:func:`gc.freeze`): full collections no longer traverse it.

Together: 1.1 s in the collector, 2.73-2.78 -> 2.54-2.58 worker CPU ms an article. Reference
counting is unchanged, so nothing that is freed today is kept: only a reference cycle among
objects alive at the freeze would never be collected (they are the process's own, for life).
"""

from __future__ import annotations

import gc

# (generation 0, 1, 2): CPython's default is (700, 10, 10).
THRESHOLDS = (10_000, 10, 10)


def collect_less_often() -> None:
    """Young collections every ``THRESHOLDS[0]`` allocations; called once at start."""
    gc.set_threshold(*THRESHOLDS)


def freeze_what_lives() -> int:
    """Collect once, then keep everything alive now out of later collections; returns how
    many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()

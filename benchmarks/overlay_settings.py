"""The product's settings with the benchmark's own URLconf (benchmarks/overlay_urls.py): the
minimal view that `run.py` compares the queue's HTTP rate with lives here, not in the product.
"""

from disclosure.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.overlay_urls"

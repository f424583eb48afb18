"""How many examples each fuzz test draws: a modest fixed budget in the suite.

``IPRO_FUZZ_SCALE`` multiplies it (``benchmarks/fuzz.py`` sets it for a longer run).
No example database: nothing is written into the worktree.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# The whole fuzz suite takes a few seconds with this budget.
SUITE_EXAMPLES = 60
SCALE_VARIABLE = "IPRO_FUZZ_SCALE"


def fuzz_settings(examples: int = SUITE_EXAMPLES) -> settings:
    """Hypothesis settings for a fuzz test drawing ``examples`` times the scale."""
    scale = max(1, int(os.environ.get(SCALE_VARIABLE, "1") or "1"))
    return settings(
        max_examples=examples * scale,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

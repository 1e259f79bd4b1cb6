"""A per-provider circuit breaker for the LLM broker, on an injected clock.

After ``failures`` failed turns in a row the breaker opens and the broker skips that
provider for ``cooldown_s``, so a dead cloud costs one timeout, not one per turn. After
the cooldown one try is let through (half-open); a success closes the breaker.
"""

from __future__ import annotations


class CircuitBreaker:
    """Counts a provider's failed turns in a row and says when to skip it."""

    def __init__(self, failures: int, cooldown_s: float) -> None:
        self._threshold = failures
        self._cooldown_s = cooldown_s
        self._failures = 0
        self._open_until: float | None = None

    def is_open(self, now: float) -> bool:
        """True while the provider should be skipped; half-open after the cooldown."""
        return self._open_until is not None and now < self._open_until

    def record_success(self) -> None:
        """Close the breaker and forget earlier failures."""
        self._failures = 0
        self._open_until = None

    def record_failure(self, now: float) -> bool:
        """Count a failure; True when this one opened the breaker."""
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = now + self._cooldown_s
            return True
        return False

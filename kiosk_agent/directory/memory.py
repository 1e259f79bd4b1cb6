"""The employee directory held in memory: thread-safe, versioned, with listeners."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kiosk_agent.messages import Employee

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Changes:
    """What one replacement of the directory changed, in numbers of employees."""

    added: int = 0
    changed: int = 0
    removed: int = 0

    @property
    def any(self) -> bool:
        """True when at least one employee was added, changed or removed."""
        return bool(self.added or self.changed or self.removed)


Listener = Callable[["Directory"], None]


class Directory:
    """The employees in memory, with a version that grows on every change.

    Thread-safe: sources replace the contents from worker threads while the daemon's
    stages read it. Listeners run in the thread that made the change.
    """

    def __init__(self, employees: Sequence[Employee] = ()) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, Employee] = {e.id: e for e in employees}
        self._version = 0
        self._listeners: list[Listener] = []

    @property
    def version(self) -> int:
        """Grows by one on every change; 0 until the first change."""
        return self._version

    @property
    def employees(self) -> tuple[Employee, ...]:
        """All employees, in source order."""
        with self._lock:
            return tuple(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, employee_id: str) -> Employee | None:
        """The employee with this id, or None."""
        return self._by_id.get(employee_id)

    def phone_of(self, employee_id: str) -> str | None:
        """The employee's E.164 phone number, or None when unknown."""
        employee = self._by_id.get(employee_id)
        return employee.phone if employee and employee.phone else None

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(directory)`` after every change; returns the unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def replace(self, employees: Sequence[Employee]) -> Changes:
        """Swap in a new set of employees; listeners run only when something changed."""
        new = {e.id: e for e in employees}
        with self._lock:
            old = self._by_id
            changes = Changes(
                added=sum(1 for key in new if key not in old),
                changed=sum(
                    1 for key, e in new.items() if key in old and old[key] != e
                ),
                removed=sum(1 for key in old if key not in new),
            )
            if not changes.any and list(old) == list(new):
                return changes
            self._by_id = new
            self._version += 1
        self._notify()
        return changes

    def remove(self, employee_id: str) -> bool:
        """Forget one employee at once (erasure); False when it was not there."""
        with self._lock:
            if employee_id not in self._by_id:
                return False
            self._by_id = {k: e for k, e in self._by_id.items() if k != employee_id}
            self._version += 1
        self._notify()
        return True

    def _notify(self) -> None:
        logger.info(
            "directory.changed",
            extra={"fields": {"version": self._version, "count": len(self)}},
        )
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception as err:  # noqa: BLE001 - one listener must not stop reloads.
                logger.error(
                    "directory.listener_failed",
                    extra={"fields": {"error_type": type(err).__name__}},
                )

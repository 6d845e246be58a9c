"""Which status changes a person may make, and when a quiet insight wakes up again.

::

    new ──▶ sent ──▶ acknowledged ──▶ done
     │        │            │
     └────────┴────────────┴──▶ dismissed | snoozed(until)

``snoozed`` may also go to acknowledged, done or dismissed. ``done`` and ``dismissed`` are final
for people. The system alone re-opens (back to ``new``, a new delivery round) a dismissed or
snoozed insight whose situation changed materially (:func:`changed_materially`) or whose snooze
ran out, a resolved one whose situation came back, and resolves open ones whose situation is gone.
"""

from __future__ import annotations

from salesradar.errors import UserInputError
from salesradar.insights.model import Status

ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(
        {Status.SENT, Status.ACKNOWLEDGED, Status.DONE, Status.DISMISSED, Status.SNOOZED}
    ),
    Status.SENT: frozenset({Status.ACKNOWLEDGED, Status.DONE, Status.DISMISSED, Status.SNOOZED}),
    Status.ACKNOWLEDGED: frozenset({Status.DONE, Status.DISMISSED, Status.SNOOZED}),
    Status.SNOOZED: frozenset({Status.ACKNOWLEDGED, Status.DONE, Status.DISMISSED}),
    Status.DONE: frozenset(),
    Status.DISMISSED: frozenset(),
    Status.RESOLVED: frozenset(),
}
OPEN: frozenset[Status] = frozenset({Status.NEW, Status.SENT, Status.ACKNOWLEDGED})
QUIET: frozenset[Status] = frozenset({Status.DISMISSED, Status.SNOOZED})
DEFAULT_MATERIAL_CHANGE = 0.5


def check_transition(current: Status, target: Status) -> None:
    """Raise :class:`UserInputError` unless a person may move an insight from current to target."""
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(ALLOWED[current])) or "nothing (it is final)"
        raise UserInputError(
            f"an insight that is {current.value} cannot become {target.value}; "
            f"allowed from {current.value}: {allowed}"
        )


def changed_materially(
    quiet_value: float | None,
    quiet_priority: int | None,
    value: float,
    priority: int,
    threshold: float = DEFAULT_MATERIAL_CHANGE,
) -> bool:
    """True when the situation differs materially from when it was silenced.

    Material means: the priority rose, or the value at stake moved (either way) by more than
    ``threshold`` (a fraction: 0.5 = 50%) of its value when silenced. From a zero value, any
    positive value is material.
    """
    if quiet_priority is not None and priority > quiet_priority:
        return True
    if quiet_value is None:
        return False
    if quiet_value == 0:
        return value > 0
    return abs(value - quiet_value) / quiet_value > threshold

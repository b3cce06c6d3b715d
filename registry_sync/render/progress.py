"""Apply's progress as lines for people: counts, the rate once a run has lasted two
seconds, rate-limit notes, and a definition to restore the moment it is known."""

from __future__ import annotations

import json
import math

from registry_sync.apply.applier import ApplyEvent, Throttled

__all__ = ["progress_lines"]


def progress_lines(event: ApplyEvent) -> list[str]:
    """What to tell a person about ``event`` (about 20 count lines however long the
    run); empty when there is nothing to say."""
    if isinstance(event, Throttled):
        pace = "" if event.rate is None else f", at most {event.rate:.1f} requests/s"
        return [
            "note: the registry keeps rate limiting; going on with "
            f"{event.parallelism} at a time{pace}"
        ]
    lines: list[str] = []
    if event.result.restore is not None:
        # At once, not only in the final report: a run cut short must not lose it.
        lines.append(f"error: {event.result.detail}")
        lines.append("Definition to restore:")
        lines.append(json.dumps(dict(event.result.restore), indent=2, ensure_ascii=False))
    step = math.ceil(event.total / 20)
    if event.done % step == 0 or event.done == event.total:
        rate = "" if event.rate is None else f" ({event.rate:.0f} writes/s)"
        lines.append(f"Applying: {event.done}/{event.total}{rate}")
    return lines

"""Progress for people: apply's notes (rate limiting, a definition to restore the
moment it is known) and the status words of a progress line (failures, rate)."""

from __future__ import annotations

import json

from registry_sync.apply.applier import ApplyEvent, Outcome, Throttled

__all__ = ["progress_count", "progress_lines", "progress_status"]


def progress_lines(event: ApplyEvent) -> list[str]:
    """What apply must tell a person about ``event`` besides the count (which the
    progress line shows, on a terminal): a rate-limit note, or a definition to restore
    the moment it is known; empty when there is nothing to say."""
    if isinstance(event, Throttled):
        pace = "" if event.rate is None else f", at most {event.rate:.1f} requests/s"
        return [
            "note: the registry keeps rate limiting; going on with "
            f"{event.parallelism} at a time{pace}"
        ]
    if event.result.restore is None:
        return []
    # At once, not only in the final report: a run cut short must not lose it.
    return [
        f"error: {event.result.detail}",
        "Definition to restore:",
        json.dumps(dict(event.result.restore), indent=2, ensure_ascii=False),
    ]


def progress_count(event: ApplyEvent) -> tuple[int, int, bool] | None:
    """For an entry's end: writes done, writes in all, and whether this one failed;
    None for a note."""
    if isinstance(event, Throttled):
        return None
    return event.done, event.total, event.result.outcome is Outcome.FAILED


def progress_status(failed: int, rate: float | None, unit: str) -> str:
    """What follows the progress line's count: failures, and the rate once known
    (``1 failed, 85 writes/s``)."""
    parts = [f"{failed} failed"]
    if rate is not None:
        parts.append(f"{rate:.1f} {unit}/s" if rate < 10 else f"{rate:.0f} {unit}/s")
    return ", ".join(parts)

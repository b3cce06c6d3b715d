"""``show``: a saved plan read back offline, to be printed as it was when made."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from registry_sync.plan.model import Plan
from registry_sync.plan.planfile import read_saved_plan
from registry_sync.plan.policy import classify

__all__ = ["ShowRequest", "ShowResult", "show_plan"]


@dataclass(frozen=True)
class ShowRequest:
    """The saved plan to show (``plan --out FILE``)."""

    plan_file: Path


@dataclass(frozen=True)
class ShowResult:
    """The saved plan with the judgement it was made with (``plan``), and a note per
    write this registry-sync classes otherwise (``notes``: a plan made by another
    version, or edited by hand)."""

    plan: Plan
    notes: tuple[str, ...] = ()


def show_plan(request: ShowRequest) -> ShowResult:
    """The plan saved in ``request.plan_file``, its saved judgement included; no
    registry is asked and no registry-sync.yaml read. The risk of each write depends
    on the plan alone and is classed again; violations and the reroute rules need the
    rules and the registry of the moment, which ``apply`` judges again. Raises
    :class:`PlanFileError` for a file that is not a well-formed saved plan."""
    plan = read_saved_plan(request.plan_file)
    notes = []
    for change in plan.writes:
        risk, reasons = classify(change)
        if (risk, reasons) != (change.risk, change.risk_reasons):
            notes.append(
                f"{change.id}: saved as {change.risk.value}, but this registry-sync classes "
                f"it {risk.value}{''.join(f'; {reason}' for reason in reasons)}: apply "
                "judges it so"
            )
    return ShowResult(plan, tuple(notes))

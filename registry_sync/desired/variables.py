"""``${NAME}`` in model and overlay files, replaced from an environment's ``vars:``.

:class:`Substitution` walks a value replacing each variable; what it cannot replace
(an undefined name, a value holding a control character, or any name when no
environment is selected) is a problem at the value's path. Ids are replaced first,
before anything reads them (:func:`with_ids_substituted`), and checked by the id rule
once replaced (:mod:`registry_sync.schema.ids`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from registry_sync.desired.loader import DesiredDefinition, line_of
from registry_sync.schema.ids import id_problem, shown_id
from registry_sync.schema.problems import Problem
from registry_sync.yamlio.document import PathParts

__all__ = [
    "Substitution",
    "has_variable",
    "replaced_text",
    "substituted_id",
    "with_ids_substituted",
]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def has_variable(value: Any) -> bool:
    """True when a text anywhere in ``value`` holds ``${``."""
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(has_variable(item) for item in value.values())
    if isinstance(value, list):
        return any(has_variable(item) for item in value)
    return False


class Substitution:
    """One walk replacing ``${NAME}`` from ``variables`` (None: no environment is
    selected, so nothing may be replaced); what it replaced and what it refused."""

    def __init__(self, variables: Mapping[str, str] | None) -> None:
        self.variables = variables
        self.paths: list[PathParts] = []
        self.problems: list[tuple[PathParts, str]] = []

    def substitute(self, value: Any, path: PathParts) -> Any:
        """``value`` (at ``path``) with every text's variables replaced."""
        if isinstance(value, str):
            return self.text(value, path) if "${" in value else value
        if isinstance(value, dict):
            return {key: self.substitute(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.substitute(item, (*path, index)) for index, item in enumerate(value)]
        return value

    def text(self, value: str, path: PathParts) -> str:
        """``value`` with each defined variable replaced; problems noted at ``path``."""
        variables = self.variables

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if variables is None:
                self.problems.append((path, f"${{{name}}} {_NO_ENVIRONMENT}"))
            elif name not in variables:
                self.problems.append((path, f"${{{name}}} {_UNDEFINED}"))
            elif _CONTROL.search(variables[name]):
                self.problems.append(
                    (
                        path,
                        f"${{{name}}} holds a control character (a line break, a tab, an "
                        "escape); vars: values are one line of text",
                    )
                )
            else:
                return variables[name]
            return match.group(0)

        replaced = _VARIABLE.sub(replace, value)
        if replaced != value:
            self.paths.append(path)
        return replaced


_UNDEFINED = (
    "is not defined: add it to vars: of this environment in registry-sync.yaml (the "
    "process environment is never read)"
)
_NO_ENVIRONMENT = (
    "in an id is replaced only by an environment's vars:, and no environment is "
    "selected: select one (--env NAME), or write the id out"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def replaced_text(value: str, variables: Mapping[str, str]) -> str:
    """``value`` with its defined variables replaced (an exclude list's id); what is
    wrong with it is reported where the id is declared."""
    return Substitution(variables).text(value, ()) if "${" in value else value


def substituted_id(model_id: str, variables: Mapping[str, str] | None) -> tuple[str, list[str]]:
    """``model_id`` with its variables replaced, and what is wrong with it: an
    undefined name, or an id that breaks the id rule once replaced."""
    found = Substitution(variables)
    replaced = found.text(model_id, ("id",))
    messages = [message for _, message in found.problems]
    problem = id_problem(replaced)
    if not messages and problem is not None:
        messages.append(f"once its variables are replaced, the id {problem}")
    return replaced, messages


def with_ids_substituted(
    definitions: Sequence[DesiredDefinition],
    variables: Mapping[str, str] | None,
    problems: list[Problem],
) -> list[DesiredDefinition]:
    """``definitions`` with the variables in their ids replaced (the body's ``id``
    too), before anything reads an id; an id that cannot be replaced, or that breaks
    the id rule once replaced, or that another definition declares too, is an error
    at its line and the definition is left out."""
    if not any("${" in definition.id for definition in definitions):
        return list(definitions)
    kept: list[DesiredDefinition] = []
    for definition in definitions:
        if "${" not in definition.id:
            kept.append(definition)
            continue
        model_id, messages = substituted_id(definition.id, variables)
        line = line_of(definition.file, definition.line, ("id",))
        problems.extend(Problem(definition.file, line, "id", message) for message in messages)
        if not messages:
            body = {**definition.body, "id": model_id}
            kept.append(dataclasses.replace(definition, id=model_id, body=body))
    by_id: dict[str, list[DesiredDefinition]] = {}
    for definition in kept:
        by_id.setdefault(definition.id, []).append(definition)
    unique: list[DesiredDefinition] = []
    for model_id, same in by_id.items():
        if len(same) == 1:
            unique.append(same[0])
            continue
        # Lines only for the few repeated: finding one may parse its file again.
        lines = [line_of(definition.file, definition.line, ("id",)) for definition in same]
        places = " and at ".join(
            f"{definition.file}:{line}" for definition, line in zip(same, lines, strict=True)
        )
        problems.extend(
            Problem(
                definition.file,
                line,
                "id",
                f"duplicate id {shown_id(model_id)} once variables are replaced: "
                f"declared at {places}",
            )
            for definition, line in zip(same, lines, strict=True)
        )
    return unique

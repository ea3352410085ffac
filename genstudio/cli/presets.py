"""`genstudio presets`: every registered family with its presets."""

from __future__ import annotations

NAME = "presets"


def add_parser(sub) -> None:
    sub.add_parser(NAME, help="list the model families and their presets")


def run(args) -> int:
    from genstudio.core import registry

    for family in registry.families():
        capabilities = ", ".join(sorted(c.value for c in family.capabilities))
        print(f"{family.name} ({family.label}): {family.description}" + (f" [{capabilities}]" if capabilities else ""))
        for name, preset in family.presets.items():
            print(f"  {name:<16} [{preset.data}] {preset.description}")
    return 0

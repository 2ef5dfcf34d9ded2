"""Suites are found through the `laif.suites` entry-point group, built-in ones included."""

from __future__ import annotations

from importlib.metadata import entry_points

from laif.core.suite import Case, PromptSpec, Suite
from laif.errors import BadInput

__all__ = ["Case", "PromptSpec", "Suite", "available_suites", "load_suite"]

GROUP = "laif.suites"


def available_suites() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load_suite(name: str) -> Suite:
    """Instantiate the suite registered under `name`."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        known = ", ".join(available_suites()) or "none"
        raise BadInput(f"--suite {name}: no such suite (installed: {known})")
    ep = found[0]
    if ep.dist is not None and ep.dist.name != "laif":  # a plugin: its own process, limits, environment
        from laif.suites.isolation import IsolatedSuite

        isolated: Suite = IsolatedSuite(name, ep.value)
        return isolated
    factory = ep.load()
    suite = factory()
    if not isinstance(suite, Suite):
        raise BadInput(f"suite {name!r} from {found[0].value} does not implement the laif.suites interface")
    return suite

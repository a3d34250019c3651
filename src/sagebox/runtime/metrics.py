"""Metric extraction from log lines with MetricDefinitions regexes, as SageMaker does."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricObservation:
    name: str
    value: float
    timestamp: float
    step: int  # how many values of this metric came before this one


MetricListener = Callable[[MetricObservation], None]


class MetricDefinitionError(ValueError):
    """A MetricDefinitions regex that does not compile or captures no group."""


def compile_definitions(definitions: Iterable[dict[str, str]]) -> list[tuple[str, re.Pattern[str]]]:
    compiled = []
    for definition in definitions:
        name, pattern = definition["Name"], definition["Regex"]
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise MetricDefinitionError(
                f"MetricDefinitions '{name}': regex {pattern!r} does not compile: {exc}"
            ) from exc
        if regex.groups < 1:
            raise MetricDefinitionError(
                f"MetricDefinitions '{name}': regex {pattern!r} must capture the value in a group"
            )
        compiled.append((name, regex))
    return compiled


class MetricExtractor:
    """Feeds each log line to every definition; keeps each metric's latest value."""

    def __init__(
        self, definitions: Iterable[dict[str, str]], listener: MetricListener | None = None
    ) -> None:
        self._definitions = compile_definitions(definitions)
        self._listener = listener
        self._latest: dict[str, MetricObservation] = {}
        self._lock = threading.Lock()

    def feed(self, line: str, timestamp: float | None = None) -> None:
        for name, regex in self._definitions:
            match = regex.search(line)
            if match is None:
                continue
            try:
                value = float(match.group(1))
            except (TypeError, ValueError):
                continue
            if not math.isfinite(value):
                continue
            with self._lock:
                previous = self._latest.get(name)
                observation = MetricObservation(
                    name, value, timestamp or time.time(), previous.step + 1 if previous else 0
                )
                self._latest[name] = observation
            if self._listener is not None:
                self._listener(observation)

    def latest(self) -> list[MetricObservation]:
        with self._lock:
            return list(self._latest.values())

"""The job state machine, applied to a job's stored record; one for every job family.

<Kind>Status: InProgress -> Completed | Failed | Stopping -> Stopped. A terminal status
stamps the family's end-time member. A family whose SageMaker statuses use other words
for the same states (pipeline executions: Executing, Succeeded) names them in `words`;
the lifecycle always speaks of its own states, and the record and the Describe document
hold the family's word. Families with secondary statuses (training's
SecondaryStatus and SecondaryStatusTransitions) keep them in step: every status change
also enters a secondary status, and `enter` moves the secondary status alone
(Downloading, Training, Uploading).

sagebox's own bookkeeping about a job (launched, the executions to end after a restart)
lives under the document's ``_sagebox`` key, never shown to clients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sagebox.services.families import Family
from sagebox.store import ResourceRecord

IN_PROGRESS, STOPPING, COMPLETED, FAILED, STOPPED = "InProgress", "Stopping", "Completed", "Failed", "Stopped"
TERMINAL = (COMPLETED, FAILED, STOPPED)
ACTIVE = (IN_PROGRESS, STOPPING)
LIFECYCLE = (*ACTIVE, *TERMINAL)
FAILURE_REASON_LIMIT = 1024


def to_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def touch(record: ResourceRecord, now: float) -> None:
    record.document["LastModifiedTime"] = now
    record.last_modified_time = to_datetime(now)


def internal(record: ResourceRecord) -> dict[str, Any]:
    """sagebox's own bookkeeping inside the document (never serialized to clients)."""
    return record.document.setdefault("_sagebox", {})


def public(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as Describe answers it: without sagebox's own ``_`` members."""
    return {key: value for key, value in document.items() if not key.startswith("_")}


@dataclass(frozen=True)
class SecondaryStatuses:
    """A family's SecondaryStatus and its log of SecondaryStatusTransitions."""

    messages: Mapping[str, str]
    """The StatusMessage of each secondary status."""
    member: str = "SecondaryStatus"
    transitions_member: str = "SecondaryStatusTransitions"

    def enter(self, document: dict[str, Any], secondary: str, now: float, message: str | None, final: bool) -> None:
        transitions: list[dict[str, Any]] = document.setdefault(self.transitions_member, [])
        if transitions and "EndTime" not in transitions[-1]:
            transitions[-1]["EndTime"] = now
        entry: dict[str, Any] = {
            "Status": secondary,
            "StartTime": now,
            "StatusMessage": message or self.messages.get(secondary, secondary),
        }
        if final:
            entry["EndTime"] = now
        transitions.append(entry)
        document[self.member] = secondary


class JobStates:
    """Moves one family's jobs through their statuses."""

    def __init__(
        self,
        family: Family,
        *,
        secondary: SecondaryStatuses | None = None,
        on_end: Callable[[dict[str, Any], float], None] | None = None,
        interrupted_note: str = "",
        words: Mapping[str, str] | None = None,
    ) -> None:
        if family.status_member is None:
            raise ValueError(f"family {family.kind} has no status member")
        unknown = sorted(set(words or {}) - set(LIFECYCLE))
        if unknown:
            raise ValueError(f"{family.kind}: {unknown} are not lifecycle states ({', '.join(LIFECYCLE)})")
        self._words = {state: (words or {}).get(state, state) for state in LIFECYCLE}
        self._states = {word: state for state, word in self._words.items()}
        if len(self._states) != len(LIFECYCLE):
            raise ValueError(f"{family.kind}: two lifecycle states share one word in {self._words}")
        self.family = family
        self._status_member = family.status_member
        self._secondary = secondary
        self._on_end = on_end
        self.server_stopped_reason = (
            f"InternalServerError: the sagebox server stopped while this {family.noun} was running; "
            f"the job was interrupted. {interrupted_note}Create a new job to run it again."
        )

    # -- the family's words for the lifecycle's states ---------------------------------------

    def word(self, state: str) -> str:
        """The family's status for a lifecycle state (Executing for InProgress, ...)."""
        return self._words[state]

    def words(self, states: tuple[str, ...] | list[str]) -> list[str]:
        return [self._words[state] for state in states]

    def state_of(self, record: ResourceRecord) -> str:
        """The lifecycle state of a job's record, whatever word its family uses."""
        return self._states.get(record.status, record.status)

    # -- moving a job -------------------------------------------------------------------------

    def advance(
        self, record: ResourceRecord, status: str, now: float, *, secondary: str | None = None, message: str | None = None
    ) -> None:
        """Moves the job to the lifecycle state `status` (with its secondary status, when tracked)."""
        document = record.document
        word = self._words.get(status, status)
        record.status = word
        document[self._status_member] = word
        terminal = status in TERMINAL
        if terminal:
            if self.family.end_time_member:
                document[self.family.end_time_member] = now
            if self._on_end is not None:
                self._on_end(document, now)
        if self._secondary is not None:
            self._secondary.enter(document, secondary or word, now, message, terminal)
        touch(record, now)

    def enter(self, record: ResourceRecord, secondary: str, now: float, message: str | None = None) -> None:
        """Moves the secondary status alone (the job stays InProgress)."""
        if self._secondary is None:
            raise ValueError(f"{self.family.kind} has no secondary statuses")
        self._secondary.enter(record.document, secondary, now, message, final=False)
        touch(record, now)

    def fail(self, record: ResourceRecord, reason: str, now: float, *, secondary: str | None = None) -> None:
        record.document["FailureReason"] = reason[:FAILURE_REASON_LIMIT]
        self.advance(record, FAILED, now, secondary=secondary)

    def is_terminal(self, record: ResourceRecord) -> bool:
        return self.state_of(record) in TERMINAL

"""The pipeline's DAG, and which steps may run next.

A step depends on the steps it names in DependsOn, on every step its arguments (or
conditions) refer to, and, for a step in a Condition step's IfSteps or ElseSteps, on
that Condition step, whose Outcome decides whether the step runs at all. `next_steps`
turns the steps' states into decisions: which pending steps are ready, which will never
run (their branch was not taken, or a step they need will not run). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sagebox.services.pipelines.conditions import operands
from sagebox.services.pipelines.definition import PipelineDefinition, Step
from sagebox.services.pipelines.expressions import PropertyFileRef, PropertyRef, references

# Step states as ListPipelineExecutionSteps shows them (StepStatus), and the engine's own.
PENDING = "Pending"
"""Not started yet (not listed)."""
SKIPPED = "Skipped"
"""Will never run: its branch was not taken or a step it needs did not run (not listed)."""
STARTING, EXECUTING, STOPPING = "Starting", "Executing", "Stopping"
SUCCEEDED, FAILED, STOPPED = "Succeeded", "Failed", "Stopped"
ACTIVE_STATES = (STARTING, EXECUTING, STOPPING)
ENDED_STATES = (SUCCEEDED, FAILED, STOPPED)


def step_references(step: Step) -> list[PropertyRef | PropertyFileRef]:
    """The other steps' properties and property files a step's arguments refer to."""
    found = []
    trees = (
        [operands(c) for c in step.conditions] if step.type == "Condition" else [[step.arguments]]
    )
    for tree in trees:
        for value in tree:
            found += [r for r in references(value) if isinstance(r, (PropertyRef, PropertyFileRef))]
    return found


@dataclass(frozen=True)
class Decisions:
    ready: tuple[str, ...]
    skipped: tuple[str, ...]


class PipelineGraph:
    def __init__(self, definition: PipelineDefinition) -> None:
        self.definition = definition
        self.order = tuple(definition.steps)
        self.dependencies: dict[str, frozenset[str]] = {}
        for name, step in definition.steps.items():
            needed = set(step.depends_on) | {r.step for r in step_references(step)}
            if step.branch is not None:
                needed.add(step.branch.condition_step)
            needed.discard(name)
            self.dependencies[name] = frozenset(needed)

    def find_cycle(self) -> list[str] | None:
        """A dependency cycle as step names, each needing the next (the first repeated last), or None."""
        state: dict[str, int] = {}  # 1 visiting, 2 done
        trail: list[str] = []

        def visit(name: str) -> list[str] | None:
            state[name] = 1
            trail.append(name)
            for dependency in sorted(self.dependencies.get(name, ())):
                if dependency not in self.dependencies:
                    continue
                if state.get(dependency) == 1:
                    return [*trail[trail.index(dependency) :], dependency]
                if dependency not in state:
                    cycle = visit(dependency)
                    if cycle:
                        return cycle
            trail.pop()
            state[name] = 2
            return None

        for name in self.order:
            if name not in state:
                cycle = visit(name)
                if cycle:
                    return cycle
        return None

    def upstream(self, names: set[str]) -> set[str]:
        """Every step the given steps need, directly or not (the steps themselves excluded)."""
        found: set[str] = set()
        todo = list(names)
        while todo:
            for dependency in self.dependencies.get(todo.pop(), ()):
                if dependency not in found:
                    found.add(dependency)
                    todo.append(dependency)
        return found - names

    def next_steps(self, states: Mapping[str, str], outcomes: Mapping[str, bool]) -> Decisions:
        """Which pending steps are ready to start and which will never run, given every
        step's state (missing means pending) and the Outcome of each ended Condition step."""
        states = dict(states)
        skipped: list[str] = []
        changed = True
        while changed:  # skipping a step may skip the steps after it
            changed = False
            for name in self.order:
                if states.get(name, PENDING) != PENDING:
                    continue
                if self._never_runs(name, states, outcomes):
                    states[name] = SKIPPED
                    skipped.append(name)
                    changed = True
        ready = [
            name
            for name in self.order
            if states.get(name, PENDING) == PENDING
            and all(states.get(d, PENDING) == SUCCEEDED for d in self.dependencies[name])
            and self._branch_taken(name, outcomes)
        ]
        return Decisions(tuple(ready), tuple(skipped))

    def _branch_taken(self, name: str, outcomes: Mapping[str, bool]) -> bool:
        branch = self.definition.steps[name].branch
        return branch is None or outcomes.get(branch.condition_step) == branch.outcome

    def _never_runs(
        self, name: str, states: Mapping[str, str], outcomes: Mapping[str, bool]
    ) -> bool:
        branch = self.definition.steps[name].branch
        if (
            branch is not None
            and branch.condition_step in outcomes
            and outcomes[branch.condition_step] != branch.outcome
        ):
            return True
        return any(states.get(d) == SKIPPED for d in self.dependencies[name])

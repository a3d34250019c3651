"""What each host of a training job runs: the executor's host commands, built once.

A built-in algorithm runs its entry module on one host. A script-mode job runs the
training toolkit's command (the user's entry point with its arguments and SM_*
variables) on every host, with one rendezvous port; a job with its own
ContainerEntrypoint runs that command in every host's /opt/ml tree, with the rendezvous
variables when there are several hosts.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sagebox.runtime.executor import HostCommand
from sagebox.runtime.ports import rendezvous_port
from sagebox.runtime.script_mode import ScriptInvocation, rendezvous_environment
from sagebox.runtime.training_workspace import TrainingWorkspace
from sagebox.runtime.venv_cache import VirtualEnvCache
from sagebox.services.training.entrypoint_setup import entrypoint_command
from sagebox.services.training.requests import TrainingPlan
from sagebox.services.training.script_setup import code_dir, prepare_python

# Runs a setup command (pip) as part of the job, logged to its first host's log: the
# exit code and the lines it printed.
SetupRunner = Callable[[list[str]], tuple[int, list[str]]]


def host_commands(
    plan: TrainingPlan,
    workspaces: Sequence[TrainingWorkspace],
    document: Mapping[str, Any],
    *,
    venvs: VirtualEnvCache,
    run_setup: SetupRunner,
) -> list[HostCommand]:
    """Every host's command, algo-1 first, each owning its /opt/ml tree and reserving one
    instance of the job's type; ScriptSetupError when the job cannot start."""
    commands = _commands(plan, workspaces, document, venvs, run_setup)
    instance_type = (document.get("ResourceConfig") or {}).get("InstanceType")
    return [
        replace(command, workspace=workspace.root, instance_type=instance_type)
        for command, workspace in zip(commands, workspaces, strict=True)
    ]


def _commands(
    plan: TrainingPlan,
    workspaces: Sequence[TrainingWorkspace],
    document: Mapping[str, Any],
    venvs: VirtualEnvCache,
    run_setup: SetupRunner,
) -> list[HostCommand]:
    if plan.entrypoint is not None:
        return _entrypoint_commands(plan, workspaces, document)
    if plan.script is not None:
        return _script_commands(plan, workspaces, document, venvs, run_setup)
    if plan.algorithm is None:
        raise RuntimeError(f"training job {document['TrainingJobName']} has neither an algorithm nor a script")
    (workspace,) = workspaces  # built-in algorithms run on one instance
    env = workspace.environment(
        job_name=str(document["TrainingJobName"]),
        job_arn=str(document["TrainingJobArn"]),
        hyperparameters=document.get("HyperParameters", {}),
        channels=plan.channels,
        user_environment=document.get("Environment"),
    )
    argv = [sys.executable, "-m", plan.algorithm.entry_module]
    return [HostCommand(workspace.host, argv, workspace.root, env, workspace.log_file)]


def _script_commands(
    plan: TrainingPlan,
    workspaces: Sequence[TrainingWorkspace],
    document: Mapping[str, Any],
    venvs: VirtualEnvCache,
    run_setup: SetupRunner,
) -> list[HostCommand]:
    """The toolkit's command on every host; requirements install once, from algo-1's code."""
    script = plan.script
    if script is None:
        raise RuntimeError("not a script-mode job")
    python = prepare_python(script, code_dir(workspaces[0]), venvs, run_setup)
    port = rendezvous_port()
    commands = []
    for workspace in workspaces:
        invocation = ScriptInvocation(
            program=script.program,
            code_dir=code_dir(workspace),
            hyperparameters=document.get("HyperParameters", {}),
            submit_directory=script.submit_directory,
        )
        env = invocation.environment(
            workspace,
            job_name=str(document["TrainingJobName"]),
            job_arn=str(document["TrainingJobArn"]),
            channels=plan.channels,
            user_environment=document.get("Environment"),
            master_port=port,
        )
        commands.append(HostCommand(workspace.host, invocation.argv(python), code_dir(workspace), env, workspace.log_file))
    return commands


def _entrypoint_commands(
    plan: TrainingPlan, workspaces: Sequence[TrainingWorkspace], document: Mapping[str, Any]
) -> list[HostCommand]:
    entrypoint = plan.entrypoint
    if entrypoint is None:
        raise RuntimeError("the job has no ContainerEntrypoint")
    port = rendezvous_port() if len(workspaces) > 1 else None
    commands = []
    for workspace in workspaces:
        argv, cwd, env = entrypoint_command(entrypoint, workspace, document, plan.channels)
        if port is not None:
            env.update(rendezvous_environment(workspace, port))
            env.update(document.get("Environment") or {})  # the job's own variables win
        commands.append(HostCommand(workspace.host, argv, cwd, env, workspace.log_file))
    return commands

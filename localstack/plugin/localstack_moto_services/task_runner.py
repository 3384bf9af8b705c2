"""An ECS agent for one-off tasks: `RunTask` runs the task's essential container as a local process.

LocalStack Community has no container runtime, and moto's tasks only pretend: each DescribeTasks
moves a task one step on, so after four it is STOPPED with exit code 0, whatever its command, and
a deploy's "migrations" task succeeds without anything having run. Here a task either really runs
or fails as ECS would fail it:

- its image must be one the settings map to a local program (the image's ENTRYPOINT); any other
  image stops the task with `CannotPullContainerError`, as a registry without it would;
- its command is the container override's, else the definition's, else the image's default CMD;
  its environment the definition's plus the override's, then its `secrets`, each `valueFrom`
  read from Secrets Manager (ARN with the optional `:json-key:version-stage:version-id` suffix)
  or SSM Parameter Store (name or ARN), as the agent does; one it cannot read stops the task with
  `ResourceInitializationError` before the container starts;
- the settings' `environment` is applied last: it says where the task's network leads on this
  machine (the database's endpoint is a loopback port here);
- its output goes to the container's awslogs group and stream (`prefix/container/task-id`);
- when the process ends the task is STOPPED with `containers[].exitCode`, `stopCode`
  `EssentialContainerExited` and `stoppedReason` "Essential container in task exited"; StopTask
  ends the process (SIGTERM, then SIGKILL after the definition's `stopTimeout`, 30 s by default).

Settings (`PROVISION_TASK_RUNNER` at start, or `POST /_localstack/provision/tasks`):

    {"images": {"registry/gateway": {"entrypoint": ["/path/to/gateway"], "command": ["start"]}},
     "environment": {"KONG_PG_HOST": "127.0.0.1", "KONG_PG_PORT": "25432"},
     "timeout": 900}

An image matches a key equal to it or to its name before `:tag` / `@digest`. Without settings no
image is known, so every task fails to start: nothing pretends to have run.
"""

import json
import logging
import os
import signal
import subprocess
import tempfile
import threading
import time

LOG = logging.getLogger(__name__)


class RunnerSettings:
    FIELDS = {"images", "environment", "timeout"}

    def __init__(self, raw: dict):
        unknown = set(raw) - self.FIELDS
        if unknown:
            raise ValueError(f"unknown task runner settings: {', '.join(sorted(unknown))}")
        self.images = {}
        for image, spec in (raw.get("images") or {}).items():
            if not isinstance(spec, dict) or not spec.get("entrypoint"):
                raise ValueError(f"images.{image}: needs an entrypoint (a list of arguments)")
            self.images[image] = (list(spec["entrypoint"]), list(spec.get("command") or []))
        self.environment = {str(k): str(v) for k, v in (raw.get("environment") or {}).items()}
        self.timeout = float(raw.get("timeout", 900))
        self.raw = raw

    def image(self, name: str):
        """(entrypoint, default command) of a known image, or None."""
        if name in self.images:
            return self.images[name]
        bare = name.split("@", 1)[0]
        last = bare.rsplit("/", 1)[-1]
        if ":" in last:
            bare = bare[: len(bare) - len(last)] + last.split(":", 1)[0]
        return self.images.get(bare)


SETTINGS = {"current": RunnerSettings({})}
RUNNING = {}  # task arn -> Popen
LOCK = threading.Lock()


def configure(raw: dict | None):
    SETTINGS["current"] = RunnerSettings(raw or {})


def initial_settings():
    raw = os.environ.get("PROVISION_TASK_RUNNER")
    if raw:
        try:
            configure(json.loads(raw))
        except (ValueError, TypeError) as error:
            LOG.error("PROVISION_TASK_RUNNER ignored: %s", error)


# === what the agent works out before starting the container ===


def container_command(definition: dict, override: dict, default: list) -> list:
    return list(override.get("command") or definition.get("command") or default)


def container_environment(definition: dict, override: dict) -> dict:
    env = {e["name"]: e.get("value", "") for e in definition.get("environment") or []}
    env.update({e["name"]: e.get("value", "") for e in override.get("environment") or []})
    return env


def parse_secret_arn(value_from: str):
    """(secret id, json key, version stage, version id) of a Secrets Manager valueFrom."""
    # arn:aws:secretsmanager:region:account:secret:name-AbCdEf[:json-key:version-stage:version-id]
    parts = value_from.split(":")
    secret_id = ":".join(parts[:7])
    extra = parts[7:] + ["", "", ""]
    return secret_id, extra[0] or None, extra[1] or None, extra[2] or None


def resolve_secret(value_from: str, read_secret, read_parameter) -> str:
    """The value the agent would put in the container's environment for one `secrets` entry."""
    if value_from.startswith("arn:") and ":secretsmanager:" in value_from:
        secret_id, key, stage, version = parse_secret_arn(value_from)
        text = read_secret(secret_id, stage, version)
        if key is None:
            return text
        try:
            document = json.loads(text)
        except ValueError:
            raise LookupError(f"secret {secret_id} is not JSON, so it has no key {key}") from None
        if not isinstance(document, dict) or key not in document:
            raise LookupError(f"secret {secret_id} has no key {key}")
        value = document[key]
        return value if isinstance(value, str) else json.dumps(value)
    name = value_from
    if value_from.startswith("arn:") and ":ssm:" in value_from:
        name = "/" + value_from.split(":parameter/", 1)[1]
    return read_parameter(name)


# === running one task ===


def _clients(task):
    from localstack.aws.connect import connect_to

    return connect_to(region_name=task.region_name, aws_access_key_id=task._account_id)


def _read_secret(clients):
    def read(secret_id, stage, version):
        params = {"SecretId": secret_id}
        if stage:
            params["VersionStage"] = stage
        if version:
            params["VersionId"] = version
        return clients.secretsmanager.get_secret_value(**params)["SecretString"]

    return read


def _read_parameter(clients):
    def read(name):
        return clients.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]

    return read


def _stop(task, reason: str, code: str, exit_code=None, container_reason=None):
    task.advance = lambda: None  # from now on moto must not move it either
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = reason
    task.stop_code = code
    task.stopped_at = time.time()
    for container in task.containers:
        container.last_status = "STOPPED"
        container.exitCode = exit_code
        container.reason = container_reason


def _log_target(definition: dict, task):
    config = definition.get("logConfiguration") or {}
    options = config.get("options") or {}
    if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
        return None
    prefix = options.get("awslogs-stream-prefix", "ecs")
    return options["awslogs-group"], f"{prefix}/{definition.get('name')}/{task.id}"


def _ship_logs(clients, target, lines):
    if target is None or not lines:
        return
    group, stream = target
    logs = clients.logs
    try:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    except Exception:  # noqa: BLE001 - an existing stream is fine; a missing group is logged below
        pass
    now = int(time.time() * 1000)
    try:
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": now, "message": line} for line in lines[-5000:]],
        )
    except Exception as error:  # noqa: BLE001 - the task's result matters more than its log
        LOG.warning("task runner: could not write logs to %s: %s", group, error)


def _string_sizes(container):
    """AWS's Container shape has cpu/memory/memoryReservation as strings; moto writes numbers."""
    for key in ("cpu", "memory", "memoryReservation"):
        if isinstance(container, dict):
            if container.get(key) is not None:
                container[key] = str(container[key])
        elif getattr(container, key, None) is not None:
            setattr(container, key, str(getattr(container, key)))


def start(task, task_definition, overrides: dict):
    """Starts the task's essential container locally (or fails the task as ECS would)."""
    task.advance = lambda: None  # moto must not walk it to STOPPED on its own
    task.last_status = "PENDING"
    for container in task.containers:
        _string_sizes(container)
    settings = SETTINGS["current"]
    definition = next(
        (c for c in task_definition.container_definitions if c.get("essential", True)),
        task_definition.container_definitions[0],
    )
    override = next(
        (
            o
            for o in (overrides or {}).get("containerOverrides") or []
            if o.get("name") == definition.get("name")
        ),
        {},
    )
    image = settings.image(definition.get("image", ""))
    if image is None:
        _stop(
            task,
            f"CannotPullContainerError: pull image manifest has been retried 1 time(s): "
            f"{definition.get('image')}: not found",
            "TaskFailedToStart",
            container_reason="CannotPullContainerError",
        )
        return
    clients = _clients(task)
    env = container_environment(definition, override)
    try:
        for secret in definition.get("secrets") or []:
            env[secret["name"]] = resolve_secret(
                secret["valueFrom"], _read_secret(clients), _read_parameter(clients)
            )
    except Exception as error:  # noqa: BLE001 - any failure to read is the agent's failure
        _stop(
            task,
            f"ResourceInitializationError: unable to pull secrets or registry auth: {error}",
            "TaskFailedToStart",
        )
        return
    env.update(settings.environment)
    entrypoint, default_command = image
    argv = entrypoint + container_command(definition, override, default_command)
    workdir = tempfile.mkdtemp(prefix="ecs-task-")
    env.setdefault("PATH", os.environ.get("PATH", "/usr/bin:/bin"))
    env.setdefault("HOME", workdir)
    try:
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as error:
        _stop(
            task,
            f"CannotStartContainerError: {error}",
            "TaskFailedToStart",
            container_reason="CannotStartContainerError",
        )
        return
    task.last_status = "RUNNING"
    for container in task.containers:
        container.last_status = "RUNNING"
        container.exitCode = None
    with LOCK:
        RUNNING[task.task_arn] = process
    stop_timeout = float(definition.get("stopTimeout") or 30)
    threading.Thread(
        target=_watch,
        args=(task, process, clients, _log_target(definition, task), settings.timeout, stop_timeout),
        name=f"ecs-task-{task.id}",
        daemon=True,
    ).start()


def _watch(task, process, clients, log_target, timeout, stop_timeout):
    lines = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode("utf-8", "replace").rstrip("\n") for line in process.stdout),
        daemon=True,
    )
    reader.start()
    try:
        code = process.wait(timeout=timeout)
        reason, stop_code = "Essential container in task exited", "EssentialContainerExited"
    except subprocess.TimeoutExpired:
        code = _terminate(process, stop_timeout)
        reason, stop_code = f"Task ran over the runner's {timeout:.0f} s limit", "TaskFailedToStart"
    reader.join(timeout=5)
    if code is not None and code < 0:
        code = 128 - code  # killed by a signal: a container's exit code says 128 + signal, as docker's
    with LOCK:
        stopped_by_user = RUNNING.pop(task.task_arn, None) is None
    _ship_logs(clients, log_target, lines)
    with LOCK:
        if stopped_by_user:
            _stop(task, task.stopped_reason or "Task stopped by user", "UserInitiated", exit_code=code)
        else:
            _stop(task, reason, stop_code, exit_code=code)
        task.runner_done = True


def _terminate(process, grace: float):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait()
    except ProcessLookupError:
        return process.wait()


def stop(task, reason: str | None) -> bool:
    """StopTask: ends the task's process if it runs here (its watcher records the exit); whether
    it did."""
    with LOCK:
        process = RUNNING.pop(task.task_arn, None)
    if process is None:
        return False
    task.stopped_reason = reason or "Task stopped by user"
    threading.Thread(target=_terminate, args=(process, 30.0), daemon=True).start()
    return True


def stopping(task):
    """After moto's StopTask marked it STOPPED: STOPPING until its process has really ended."""
    with LOCK:
        if not getattr(task, "runner_done", False):
            task.last_status = "STOPPING"


def run_task(context, request: dict) -> dict:
    """ECS RunTask: moto records the tasks, then each one runs here (or fails to start)."""
    from localstack.services.moto import call_moto, call_moto_with_request
    from moto.ecs.models import ecs_backends

    from .fixups import default_security_groups, eni_private_dns_name, fargate_resource_requirements

    fargate_resource_requirements()
    eni_private_dns_name()
    fixed = default_security_groups(context, request)
    response = call_moto_with_request(context, fixed) if fixed else call_moto(context)
    backend = ecs_backends[context.account_id][context.region]
    for described in response.get("tasks") or []:
        for container in described.get("containers") or []:
            _string_sizes(container)
        task = _find(backend, described["taskArn"])
        if task is not None:
            definition = backend.describe_task_definition(described["taskDefinitionArn"])
            start(task, definition, request.get("overrides") or {})
    return response


def stop_task(context, request: dict) -> dict:
    """ECS StopTask: the local process gets SIGTERM; the task reads STOPPING until it exited."""
    from localstack.services.moto import call_moto
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[context.account_id][context.region]
    task = _find(backend, request["task"])
    ours = task is not None and stop(task, request.get("reason"))
    response = call_moto(context)
    if ours:
        stopping(task)
    return response


def _find(backend, arn_or_id: str):
    for tasks in backend.tasks.values():
        for arn, task in tasks.items():
            if arn == arn_or_id or arn.rsplit("/", 1)[-1] == arn_or_id:
                return task
    return None

"""The compose files, Dockerfile and deploy/ configuration, checked by parsing (no Docker here).

Services, pinned images, environment names known to the archiver's configuration table,
no inlined secret, health checks, dependency conditions, and the agreement between the
SciCat job configuration and the archiver's ARCHIVER_JOB_* values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from archiver.flower_names import TASKS_COLUMNS
from archiver.settings import TABLE, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SCICATLIVE = ROOT / "docker-compose.scicatlive.yml"
GENERATIONS = {
    "v4": ("amqp.topic", "client.jobs.write.v4", "jobqueuev4", "next"),
    "v3": ("jobs.write", "client.jobs.write", "jobqueue", "loopback"),
}

#: Every variable the archiver reads: the settings' names and the old mock's aliases.
KNOWN = {s.env for s in TABLE} | {a for s in TABLE for a in s.aliases}
#: Variables of other programs inside the archiver image, allowed explicitly.
ALLOWED_EXTRA = {
    "FLOWER_BASIC_AUTH",  # Flower: user:password
    "FLOWER_BROKER_API",  # Flower: RabbitMQ management API for queue lengths
    "RABBITMQ_USER",  # deploy/rabbitmq/render_definitions.py
    "RABBITMQ_PASSWORD",  # deploy/rabbitmq/render_definitions.py
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_PW$|_PASS$|BASIC_AUTH|^PASS", re.I)
#: ``${VAR}`` or ``${VAR:?message}``, nothing else (``${VAR:-default}`` would inline one).
REFERENCE = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*(:?\?[^}]*)?\}$")
URL_CREDENTIALS = re.compile(r"://(?P<user>[^:/@\s]+):(?P<pw>[^@\s]+)@")


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: str(v) for k, v in env.items()}


def is_archiver(service: dict[str, Any]) -> bool:
    return str(service.get("image", "")).startswith("scicat-archiver:")


@pytest.fixture(scope="module")
def stack() -> dict[str, Any]:
    return load(COMPOSE)["services"]


@pytest.fixture(scope="module")
def overlay() -> dict[str, Any]:
    return load(SCICATLIVE)["services"]


def all_services() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in (COMPOSE, SCICATLIVE):
        for name, service in load(path)["services"].items():
            found.append((path.name, name, service))
    return found


# -- services and images ------------------------------------------------------------------
def test_the_full_stack_has_every_service(stack):
    assert {
        "rabbitmq",
        "mongodb",
        "backend",
        "archiver-worker",
        "archiver-bridge",
        "flower",
    } <= set(stack)


def test_the_scicatlive_overlay_has_only_the_archiver_and_flower(overlay):
    assert set(overlay) == {"archiver-worker", "archiver-bridge", "flower"}
    assert "archivemock" not in overlay
    networks = load(SCICATLIVE)["networks"]
    assert all(net.get("external") is True for net in networks.values())
    for service in overlay.values():
        assert service["networks"] == ["scicatlive"]


@pytest.mark.parametrize(("file", "name", "service"), all_services())
def test_images_are_pinned(file, name, service):
    image = service["image"]
    repo, _, tag = image.rpartition(":")
    assert repo and tag, f"{file}:{name}: image {image!r} has no tag"
    assert "latest" not in tag, f"{file}:{name}: {image!r} is not pinned"
    if is_archiver(service):
        assert service["build"]["context"] == "."


def test_third_party_images(stack):
    assert stack["rabbitmq"]["image"].endswith("-management-alpine")
    assert re.fullmatch(
        r"ghcr\.io/scicatproject/backend-next:v5\.\d+\.\d+", stack["backend"]["image"]
    )
    assert re.fullmatch(r"mongo:\d+\.\d+", stack["mongodb"]["image"])


def test_archiver_services_run_the_right_commands(stack, overlay):
    for services in (stack, overlay):
        assert services["archiver-worker"]["command"][:4] == ["celery", "-A", "archiver", "worker"]
        assert services["archiver-bridge"]["command"] == ["archiver", "bridge"]
        flower = services["flower"]["command"]
        assert flower[:4] == ["celery", "-A", "archiver", "flower"]
        assert f"--tasks-columns={TASKS_COLUMNS}" in flower, "Flower must show the args column"


# -- environment names ----------------------------------------------------------------------
@pytest.mark.parametrize(("file", "name", "service"), all_services())
def test_archiver_services_use_only_known_variable_names(file, name, service):
    if not is_archiver(service):
        return
    unknown = set(environment(service)) - KNOWN - ALLOWED_EXTRA
    assert not unknown, f"{file}:{name}: not archiver settings: {sorted(unknown)}"


@pytest.mark.parametrize("generation", sorted(GENERATIONS))
def test_scicatlive_env_files_use_known_names_and_no_secret(generation):
    values = env_file(ROOT / "deploy" / "scicatlive" / f"{generation}.env")
    assert set(values) <= KNOWN, sorted(set(values) - KNOWN)
    assert not [k for k in values if SECRET_NAME.search(k)], "credentials belong in .env"


def test_flower_gets_basic_auth(stack, overlay):
    for services in (stack, overlay):
        assert "FLOWER_BASIC_AUTH" in environment(services["flower"])


# -- secrets ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("file", "name", "service"), all_services())
def test_no_secret_is_inlined(file, name, service):
    for key, value in environment(service).items():
        if SECRET_NAME.search(key):
            assert REFERENCE.match(value), f"{file}:{name}: {key} must be a ${{VAR}} reference"
        for match in URL_CREDENTIALS.finditer(value):
            assert REFERENCE.match(match["pw"]), f"{file}:{name}: {key} has a password in a URL"


def test_no_password_anywhere_in_the_compose_files():
    example = env_file(ROOT / ".env.example")
    secrets = [v for k, v in example.items() if SECRET_NAME.search(k)]
    assert secrets, ".env.example lists the credentials"
    for path in (COMPOSE, SCICATLIVE):
        text = path.read_text(encoding="utf-8")
        for secret in secrets + ["2jf70TPNZsS", "guest:guest"]:
            assert secret not in text, f"{path.name} contains {secret!r}"


def test_env_example_names_every_referenced_variable():
    example = set(env_file(ROOT / ".env.example"))
    optional = {"ARCHIVER_VERSION", "ARCHIVER_LOG_LEVEL", "FLOWER_PORT", "SCICAT_PORT"}
    optional |= {"BIND_ADDRESS", "ARCHIVER_DATA_DIR"}
    optional |= {"PID_PREFIX", "SCICATLIVE_BE_VERSION", "SCICATLIVE_NETWORK"}
    for path in (COMPOSE, SCICATLIVE):
        used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", path.read_text(encoding="utf-8")))
        assert used - optional <= example, f"{path.name}: {sorted(used - optional - example)}"


def test_gitignore_and_dockerignore_keep_secrets_out():
    docker = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in docker and "tests" in docker and ".venv" in docker


# -- health checks and dependencies --------------------------------------------------------
@pytest.mark.parametrize(("file", "name", "service"), all_services())
def test_long_running_services_have_health_checks_and_restart(file, name, service):
    if service.get("restart") == "no":  # one-shot jobs
        return
    check = service.get("healthcheck")
    assert check and check.get("test") and not check.get("disable"), f"{file}:{name}"
    assert service.get("restart") in ("unless-stopped", "always", "on-failure")


def test_archiver_health_checks(stack, overlay):
    for services in (stack, overlay):
        assert services["archiver-worker"]["healthcheck"]["test"] == ["CMD", "archiver", "health"]
        # The bridge never calls SciCat: its health must not depend on SciCat being up.
        skip = ["CMD", "archiver", "health", "--skip-scicat"]
        assert services["archiver-bridge"]["healthcheck"]["test"] == skip
        assert services["flower"]["healthcheck"]["test"] == skip


# -- storage ---------------------------------------------------------------------------------
def image_folders_owned_by_the_user() -> tuple[str, set[str]]:
    """The image's user and the folders the Dockerfile creates and chowns to it."""
    lines = dockerfile()
    user = [line.split()[1] for line in lines if line.startswith("USER ")][-1]
    folders: set[str] = set()
    for line in lines:
        if line.startswith("RUN ") and f"chown -R {user}:{user} /var/lib/archiver" in line:
            for command in line.split("&&"):
                if command.strip().startswith("mkdir -p"):
                    folders |= set(command.split()[2:])
    return user, folders


def mounts_of(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """``target -> (source, mode)`` of a service's short-form volumes."""
    found = {}
    for volume in service.get("volumes") or ():
        rest, mode = volume, "rw"
        if volume.endswith((":ro", ":rw")):
            rest, mode = volume[:-3], volume[-2:]
        source, _, target = rest.rpartition(":")
        found[target] = (source, mode)
    return found


@pytest.mark.parametrize("path", [COMPOSE, SCICATLIVE], ids=lambda p: p.name)
def test_the_worker_archives_to_named_volumes_owned_by_the_image_user(path):
    data = load(path)
    worker = data["services"]["archiver-worker"]
    env = environment(worker)
    assert env["ARCHIVER_STORAGE"] == "filesystem"
    mounts = mounts_of(worker)
    _, folders = image_folders_owned_by_the_user()
    for key in ("ARCHIVER_ARCHIVE_ROOT", "ARCHIVER_RETRIEVE_ROOT"):
        root = env[key]
        assert root in mounts, f"{path.name}: {key}={root} is not on a volume"
        assert mounts[root][0] in data["volumes"], f"{path.name}: {root} is not a named volume"
        assert root in folders, f"the Dockerfile must create {root} owned by the image's user"
    local = dict(pair.split("=") for pair in env["ARCHIVER_SOURCE_PATH_MAP"].split(";"))
    for folder in local.values():
        assert folder in mounts, f"{path.name}: {folder} is not mounted"
        assert mounts[folder][1] == "ro", f"{path.name}: the archiver never writes sources"
    load_settings_from(env)


def load_settings_from(env: dict[str, str]) -> None:
    from archiver.settings import load_settings

    storage = {k: v for k, v in env.items() if "$" not in v}
    settings = load_settings(storage)
    assert settings.storage == "filesystem" and settings.archive_root


def test_the_image_user_has_a_fixed_uid():
    user, folders = image_folders_owned_by_the_user()
    assert user == "archiver" and "/var/lib/archiver/archive" in folders
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(rf"useradd .*--uid 10001 .*{user}", text.replace("\\\n", " "))


# -- published ports --------------------------------------------------------------------------
@pytest.mark.parametrize(("file", "name", "service"), all_services())
def test_published_ports_are_on_loopback_unless_the_operator_says_otherwise(file, name, service):
    for port in service.get("ports") or ():
        port = str(port)
        operator_choice = port.startswith("${BIND_ADDRESS:-127.0.0.1}:")
        assert operator_choice or port.startswith("127.0.0.1:"), f"{file}:{name}: {port}"


def test_flower_and_the_backend_are_published(stack, overlay):
    for service in (stack["flower"], stack["backend"], overlay["flower"]):
        assert [p for p in service["ports"] if p.startswith("${BIND_ADDRESS:-127.0.0.1}:")]


@pytest.mark.parametrize(("file", "name", "service"), all_services())
def test_dependencies_have_conditions(file, name, service):
    depends = service.get("depends_on") or {}
    assert isinstance(depends, dict), f"{file}:{name}: depends_on needs conditions"
    for target, rule in depends.items():
        assert rule.get("condition") in (
            "service_healthy",
            "service_started",
            "service_completed_successfully",
        ), f"{file}:{name} -> {target}"


def test_start_order(stack):
    def deps(name: str) -> dict[str, str]:
        return {k: v["condition"] for k, v in stack[name].get("depends_on", {}).items()}

    assert deps("rabbitmq") == {"rabbitmq-definitions": "service_completed_successfully"}
    assert deps("backend") == {"mongodb": "service_healthy", "rabbitmq": "service_healthy"}
    for name in ("archiver-worker", "archiver-bridge"):
        assert deps(name)["rabbitmq"] == "service_healthy"
        assert deps(name)["backend"] == "service_healthy"
    assert deps("flower") == {"rabbitmq": "service_healthy"}


# -- SciCat backend and its job configuration ----------------------------------------------
def test_backend_environment(stack):
    env = environment(stack["backend"])
    assert env["RABBITMQ_ENABLED"] == "yes"
    assert env["RABBITMQ_HOSTNAME"] == "rabbitmq" and env["RABBITMQ_PORT"] == "5672"
    for key in ("RABBITMQ_USERNAME", "RABBITMQ_PASSWORD", "JWT_SECRET"):
        assert REFERENCE.match(env[key]), key
    assert "${MONGO_PASSWORD}" in env["MONGODB_URI"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in stack["backend"]["volumes"]}
    assert mounts["/home/node/app/" + env["JOB_CONFIGURATION_FILE"]] == (
        "./deploy/scicat/jobConfig.yaml"
    )
    accounts = mounts["/home/node/app/" + env["FUNCTIONAL_ACCOUNTS_FILE"]]
    assert accounts == "./deploy/scicat/functionalAccounts.json"


def rabbitmq_actions(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in job["create"]["actions"] if a["actionType"] == "rabbitmq"]


def test_job_configuration_publishes_what_the_archiver_consumes(stack):
    config = load(ROOT / "deploy" / "scicat" / "jobConfig.yaml")
    jobs = {job["jobType"]: job for job in config["jobs"]}
    assert {"archive", "retrieve", "reset"} <= set(jobs)
    for name in ("archiver-worker", "archiver-bridge"):
        env = environment(stack[name])
        expected = (
            env["ARCHIVER_JOB_EXCHANGE"],
            env["ARCHIVER_JOB_QUEUE"],
            env["ARCHIVER_JOB_ROUTING_KEY"],
        )
        for job_type in ("archive", "retrieve", "reset"):
            actions = rabbitmq_actions(jobs[job_type])
            assert [(a["exchange"], a["queue"], a["key"]) for a in actions] == [expected]
    assert config["configVersion"]


def test_functional_accounts_example_has_the_archiver_account():
    accounts = json.loads(
        (ROOT / "deploy" / "scicat" / "functionalAccounts.example.json").read_text("utf-8")
    )
    names = {a["username"]: a for a in accounts}
    assert "archiver" in names and names["archiver"]["role"] == "archivemanager"
    assert all(a["password"].startswith("CHANGE-ME") for a in accounts)
    example = env_file(ROOT / ".env.example")
    assert example["ARCHIVER_SCICAT_USER"] == "archiver"


@pytest.mark.parametrize("generation", sorted(GENERATIONS))
def test_scicatlive_generations(generation):
    exchange, queue, key, api = GENERATIONS[generation]
    values = env_file(ROOT / "deploy" / "scicatlive" / f"{generation}.env")
    assert values["ARCHIVER_JOB_EXCHANGE"] == exchange
    assert values["ARCHIVER_JOB_QUEUE"] == queue
    assert values["ARCHIVER_JOB_ROUTING_KEY"] == key
    assert values["ARCHIVER_SCICAT_API"] == api
    assert values["ARCHIVER_SCICAT_URL"] == "http://backend:3000/api/v3/"
    assert values["ARCHIVER_BROKER_URL"] == "rabbitmq"


def test_scicatlive_overlay_selects_the_generation_file(overlay):
    for service in overlay.values():
        assert service["env_file"] == ["./deploy/scicatlive/${SCICATLIVE_BE_VERSION:-v4}.env"]


# -- RabbitMQ definitions -------------------------------------------------------------------
def definitions() -> dict[str, Any]:
    return json.loads((ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text("utf-8"))


def test_definitions_never_give_the_job_queue_arguments(stack):
    job_queue = environment(stack["archiver-worker"])["ARCHIVER_JOB_QUEUE"]
    job_queues = {job_queue, *(g[1] for g in GENERATIONS.values())}
    for queue in definitions()["queues"]:
        if queue["name"] in job_queues:
            assert queue["durable"] is True and not queue.get("arguments")


def test_quarantine_queue_is_plain_and_job_queues_dead_letter_by_policy(stack):
    quarantine = environment(stack["archiver-worker"])["ARCHIVER_QUARANTINE_QUEUE"]
    assert quarantine == Settings().quarantine_queue
    defs = definitions()
    queues = {q["name"]: q for q in defs["queues"]}
    assert queues[quarantine]["durable"] is True
    assert queues[quarantine]["arguments"] == {}
    assert not defs.get("users"), "users come from .env through render_definitions.py"
    policies = [p for p in defs["policies"] if "dead-letter-exchange" in p["definition"]]
    assert len(policies) == 1
    policy = policies[0]
    assert policy["apply-to"] == "queues"
    assert policy["definition"]["dead-letter-routing-key"] == quarantine
    for _, queue, _, _ in GENERATIONS.values():
        assert re.search(policy["pattern"], queue), queue
    assert not re.search(policy["pattern"], quarantine)


def test_rabbitmq_loads_the_rendered_definitions(stack):
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text("utf-8")
    match = re.search(r"^management\.load_definitions\s*=\s*(\S+)", conf, re.M)
    assert match, "rabbitmq.conf must load the definitions at boot"
    path = Path(match[1])
    mounts = dict(v.split(":")[:2][::-1] for v in stack["rabbitmq"]["volumes"])
    assert mounts[str(path.parent)] == "rabbitmq-definitions"
    assert mounts["/etc/rabbitmq/conf.d/90-archiver.conf"] == "./deploy/rabbitmq/rabbitmq.conf"
    renderer = stack["rabbitmq-definitions"]
    assert renderer["command"][-1].endswith(path.name)
    out = dict(v.split(":")[:2][::-1] for v in renderer["volumes"])
    assert out[str(Path(renderer["command"][-1]).parent)] == "rabbitmq-definitions"


# -- Dockerfile -----------------------------------------------------------------------------
def dockerfile() -> list[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_dockerfile_base_user_install_health_and_command():
    lines = dockerfile()
    base = [line for line in lines if line.startswith("FROM ")]
    assert len(base) == 1 and re.fullmatch(r"FROM python:3\.12-slim(-\w+)?", base[0])
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
    installs = [line for line in lines if line.startswith("RUN pip install")]
    assert installs and re.match(r'RUN pip install "?\.(\[[a-z,]+\])?"?(\s|$)', installs[0])
    checks = [line for line in lines if line.startswith("HEALTHCHECK")]
    assert len(checks) == 1 and '["archiver", "health"]' in checks[0]
    cmd = [line for line in lines if line.startswith("CMD ")]
    assert cmd == ['CMD ["celery", "-A", "archiver", "worker"]']  # ARCHIVER_LOG_LEVEL: level
    copies = " ".join(line for line in lines if line.startswith("COPY "))
    for needed in ("pyproject.toml", "celeryconfig.py", "archiver", "tasks", "README.md"):
        assert needed in copies


@pytest.mark.parametrize("path", [COMPOSE, SCICATLIVE], ids=lambda p: p.name)
def test_the_bridge_can_run_its_reconciler_and_both_archiver_services_restart(path):
    # Issue 16 case 8: a worker that dies is restarted and the bridge's reconciler takes up
    # the chains it lost; the reconciler needs SciCat (URL and account) in the bridge.
    services = load(path)["services"]
    bridge = services["archiver-bridge"]
    env = dict(environment(bridge))
    for name in bridge.get("env_file") or []:
        generation = "v4" if "SCICATLIVE_BE_VERSION" in name else ""
        env.update(env_file(ROOT / name.replace("${SCICATLIVE_BE_VERSION:-v4}", generation)))
    for name in ("ARCHIVER_SCICAT_URL", "ARCHIVER_SCICAT_USER", "ARCHIVER_SCICAT_PASSWORD"):
        assert env.get(name), f"{path.name}: the bridge has no {name}"
    assert env.get("ARCHIVER_RECONCILE_INTERVAL", "300") not in ("0", "0.0")
    for name in ("archiver-bridge", "archiver-worker"):
        assert services[name]["restart"] == "unless-stopped", name

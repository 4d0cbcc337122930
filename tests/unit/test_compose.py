"""docker-compose.yml and .env.example, checked without a docker engine.

``problems`` reads the compose document the way compose would (after ``${VAR}`` interpolation)
and lists everything wrong with it; the tests run it on the real files, and on broken copies to
show that each check can fail.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli.stack import SERVICES as NAVCYCLE_PROCESSES
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
Compose = dict[str, Any]

SETTINGS = {f"NAVCYCLE_{name.upper()}" for name in Settings.model_fields}
# What each process cannot work without in a multi-container deployment: without the database
# URL a service would keep its tables in a SQLite file inside its own container; without the
# object store settings documents would stay on one container's disk.
EVERY = {
    "NAVCYCLE_NATS_URL",
    "NAVCYCLE_STREAM_REPLICAS",
    "NAVCYCLE_STATE_DIR",
    "NAVCYCLE_LOG_FORMAT",
}
TEMPORAL = {"NAVCYCLE_TEMPORAL_ADDRESS", "NAVCYCLE_TEMPORAL_NAMESPACE", "NAVCYCLE_TASK_QUEUE"}
DATABASE = {"NAVCYCLE_DATABASE_URL"}
OBJECTS = {
    "NAVCYCLE_S3_ENDPOINT",
    "NAVCYCLE_S3_ACCESS_KEY",
    "NAVCYCLE_S3_SECRET_KEY",
    "NAVCYCLE_S3_BUCKET",
}
# How the notifier delivers: webhooks, e-mail, and its retry and concurrency limits.
DELIVERY = {s for s in SETTINGS if s.startswith(("NAVCYCLE_WEBHOOK_", "NAVCYCLE_SMTP_"))} | {
    s for s in SETTINGS if s.startswith("NAVCYCLE_NOTICE_")
}
REQUIRED = {
    "registry": EVERY | DATABASE,
    "filings": EVERY | DATABASE | OBJECTS,
    "assessment": EVERY | DATABASE,
    "notifier": EVERY | DATABASE | DELIVERY,
    "dashboard": EVERY | DATABASE,
    "worker": EVERY | TEMPORAL | OBJECTS,
    "gateway": EVERY | TEMPORAL | DATABASE | OBJECTS | {"NAVCYCLE_HTTP_HOST", "NAVCYCLE_HTTP_PORT"},
}
# Least privilege: the object store keys go only where documents are read or written.
OBJECT_KEY_HOLDERS = {"filings", "worker", "gateway"}
# Values for the variables compose must be given (secrets have no default).
SECRETS = {
    "POSTGRES_PASSWORD": "pg-pass-1",
    "MINIO_ROOT_PASSWORD": "minio-pass-1",
    "NATS_REGISTRY_PASSWORD": "nats-registry-1",
    "NATS_FILINGS_PASSWORD": "nats-filings-1",
    "NATS_ASSESSMENT_PASSWORD": "nats-assessment-1",
    "NATS_NOTIFIER_PASSWORD": "nats-notifier-1",
    "NATS_DASHBOARD_PASSWORD": "nats-dashboard-1",
    "NATS_WORKER_PASSWORD": "nats-worker-1",
    "NATS_GATEWAY_PASSWORD": "nats-gateway-1",
    "NATS_OPERATOR_PASSWORD": "nats-operator-1",
    "NATS_ROUTE_PASSWORD": "route-pass-1",
    "NAVCYCLE_WEBHOOK_SECRET": "hook-secret-1",
    "TEMPORAL_UI_PASSWORD_HASH": "$2a$14$ui-hash",
}
LOOPBACK = {"127.0.0.1", "::1", "[::1]", "localhost"}

_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")
_ENV_LINE = re.compile(r"^#?\s*(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def env_example(text: str) -> dict[str, str]:
    """``NAME=value`` lines of .env.example, commented ones (unset by default) included."""
    found = {}
    for line in text.splitlines():
        if match := _ENV_LINE.match(line.strip()):
            found[match["name"]] = match["value"]
    return found


def referenced(node: Any) -> set[str]:
    """Every variable a compose document interpolates."""
    if isinstance(node, str):
        return {m["name"] for m in _VAR.finditer(node) if m["name"]}
    if isinstance(node, Mapping):
        return set().union(*(referenced(v) for v in node.values()), set())
    if isinstance(node, list):
        return set().union(*(referenced(v) for v in node), set())
    return set()


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Compose's substitution: ``${X}``, ``${X:-default}``, ``${X:?error}``; ``$$`` is a ``$``."""

    def one(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, op, arg = match["name"], match["op"] or "", match["arg"]
        value = env.get(name)
        missing = value is None or (value == "" and op.startswith(":"))
        if op.endswith("?") and missing:
            raise KeyError(f"{name}: {arg}")
        if op.endswith("-") and missing:
            return arg
        return value or ""

    if isinstance(node, str):
        return _VAR.sub(one, node)
    if isinstance(node, Mapping):
        return {k: interpolate(v, env) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env) for v in node]
    return node


def published(service: Mapping[str, Any]) -> list[tuple[str, int | None]]:
    """``(host address, host port)`` of every published port; ``None``: a random host port."""
    found: list[tuple[str, int | None]] = []
    for mapping in service.get("ports", []):
        if isinstance(mapping, Mapping):
            port = mapping.get("published")
            found.append((str(mapping.get("host_ip") or "0.0.0.0"), int(port) if port else None))
            continue
        parts = str(mapping).split("/")[0].rsplit(":", 2)
        if len(parts) == 1:  # a bare container port: still published, on a random host port
            found.append(("0.0.0.0", None))
        else:  # [ip:]host:container
            found.append((parts[0] if len(parts) == 3 else "0.0.0.0", int(parts[-2])))
    return found


def host_ports(service: Mapping[str, Any]) -> list[int]:
    return [port for _, port in published(service) if port is not None]


def serves(service: Mapping[str, Any]) -> str | None:
    command = service.get("command") or []
    if isinstance(command, list) and len(command) == 2 and command[0] == "serve":
        return str(command[1])
    return None


def problems(raw: Compose, example_text: str) -> list[str]:
    """Everything wrong with a compose document and its .env.example."""
    example = env_example(example_text)
    found = _documentation_problems(raw, example)
    env = {k: v for k, v in example.items() if v and not k.startswith("NAVCYCLE_")}
    try:
        compose = interpolate(raw, {**env, **SECRETS})
    except KeyError as exc:
        return [*found, f"compose needs a variable with no value: {exc}"]
    services: dict[str, Any] = compose.get("services", {})
    awaited = {
        dep
        for service in services.values()
        for dep, condition in _depends_on(service).items()
        if (condition or {}).get("condition") == "service_completed_successfully"
    }
    seen_ports: dict[int, str] = {}
    for name, service in services.items():
        found += _container_problems(name, service, awaited)
        for port in host_ports(service):
            if port in seen_ports:
                found.append(f"{name} and {seen_ports[port]} both publish host port {port}")
            seen_ports[port] = name
        found += _settings_problems(name, service)
    return found + _shape_problems(services) + _edge_problems(services)


def _documentation_problems(raw: Compose, example: dict[str, str]) -> list[str]:
    found = []
    documented = set(example)
    in_example = {n for n in documented if n.startswith("NAVCYCLE_")}
    if in_example != SETTINGS:
        found.append(
            f".env.example settings differ from the Settings model: missing "
            f"{sorted(SETTINGS - in_example)}, unknown {sorted(in_example - SETTINGS)}"
        )
    uses = referenced(raw)
    if uses - documented:
        found.append(
            f"compose uses variables .env.example does not list: {sorted(uses - documented)}"
        )
    stale = {n for n in documented - uses if not n.startswith("NAVCYCLE_")}
    if stale:
        found.append(f".env.example lists variables compose never uses: {sorted(stale)}")
    return found


def _container_problems(name: str, service: Mapping[str, Any], awaited: set[str]) -> list[str]:
    found = []
    health = service.get("healthcheck") or {}
    one_shot = service.get("restart") == "no"
    if not health.get("test") and not (one_shot and health.get("disable")):
        found.append(f"{name} has no healthcheck")
    # A one-shot job has nothing to probe while it runs: its exit code is its health, so some
    # service must wait for it to complete successfully.
    if one_shot and name not in awaited:
        found.append(f"{name} runs once but nothing waits for it to succeed")
    return found


def _settings_problems(name: str, service: Mapping[str, Any]) -> list[str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    process = serves(service)
    if process is None and not any(k.startswith("NAVCYCLE_") for k in env):
        return []  # not a navcycle container
    found = []
    unknown = {k for k in env if k.startswith("NAVCYCLE_")} - SETTINGS
    if unknown:
        found.append(f"{name} sets unknown settings {sorted(unknown)}")
    missing = REQUIRED.get(process or "", EVERY) - set(env)
    if missing:
        found.append(f"{name} lacks {sorted(missing)}")
    if "NAVCYCLE_S3_SECRET_KEY" in env and process not in OBJECT_KEY_HOLDERS:
        found.append(f"{name} holds the object store secret key without needing it")
    try:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            **{k.removeprefix("NAVCYCLE_").lower(): v for k, v in env.items()},
        )
    except ValueError as exc:
        return [*found, f"{name}: its settings do not validate: {exc}"]
    if settings.stream_replicas != 3:
        found.append(f"{name} keeps the event stream at {settings.stream_replicas} replicas")
    if len(settings.nats_servers) < 3:
        found.append(f"{name} knows {len(settings.nats_servers)} NATS server(s), not the 3")
    if process == "gateway" and settings.http_host != "0.0.0.0":
        found.append("the gateway listens on a loopback address inside its container")
    if DATABASE <= set(env) and not str(settings.database_url).startswith("postgresql"):
        found.append(f"{name} does not use PostgreSQL")
    return found


def _shape_problems(services: Mapping[str, Any]) -> list[str]:
    found = []
    processes = {serves(s): n for n, s in services.items() if serves(s)}
    for process in NAVCYCLE_PROCESSES:
        if process not in processes:
            found.append(f"no container runs `navcycle serve {process}`")
    worker = services.get(processes.get("worker") or "", {})
    replicas = int((worker.get("deploy") or {}).get("replicas", 1))
    if replicas < 2:
        found.append(f"the worker runs {replicas} replica(s); scaling out needs more than one")
    nats = [n for n, s in services.items() if str(s.get("image", "")).startswith("nats:")]
    if len(nats) < 3:
        found.append(f"{len(nats)} NATS server(s): R3 needs a cluster of 3")
    return found


def _edge_problems(services: Mapping[str, Any]) -> list[str]:
    """Only the reverse proxy faces the network; the gateway and the Temporal UI sit behind it."""
    found = []
    proxies = {n for n, s in services.items() if str(s.get("image", "")).startswith("caddy:")}
    if not proxies:
        found.append("no reverse proxy (Caddy) terminates TLS in front of the gateway")
    for name, service in services.items():
        ports = published(service)
        if serves(service) == "gateway" and ports:
            found.append(f"the gateway ({name}) publishes {ports}: only the proxy may reach it")
        if str(service.get("image", "")).startswith("temporalio/ui") and ports:
            found.append(f"the Temporal UI ({name}) is published without the proxy: {ports}")
        if name in proxies:
            continue
        for address, port in ports:
            if address not in LOOPBACK:
                found.append(
                    f"{name} publishes port {port or 'random'} to the network on {address}:"
                    " only the proxy may face it"
                )
    for name in sorted(proxies):
        found += _proxy_problems(name, services[name])
    return found


def _proxy_problems(name: str, service: Mapping[str, Any]) -> list[str]:
    mounts = [str(v).split(":") for v in service.get("volumes", [])]
    caddyfiles = [m[0] for m in mounts if len(m) >= 2 and m[1] == "/etc/caddy/Caddyfile"]
    if not caddyfiles:
        return [f"{name} mounts no Caddyfile at /etc/caddy/Caddyfile"]
    path = ROOT / caddyfiles[0]
    if not path.is_file():
        return [f"{name} mounts {caddyfiles[0]}, which does not exist"]
    if not re.search(r"^\s*reverse_proxy\s+gateway:8000\b", path.read_text(), re.M):
        return [f"{caddyfiles[0]} does not pass requests to the gateway (gateway:8000)"]
    if 443 not in host_ports(service):
        return [f"{name} does not publish HTTPS (port 443)"]
    return []


def _depends_on(service: Mapping[str, Any]) -> dict[str, Any]:
    deps = service.get("depends_on") or {}
    return {d: {} for d in deps} if isinstance(deps, list) else dict(deps)


def _real() -> tuple[Compose, str]:
    raw = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return raw, (ROOT / ".env.example").read_text()


def test_the_compose_file_and_env_example_have_no_problems() -> None:
    raw, example = _real()
    assert problems(raw, example) == []


def test_only_the_proxy_faces_the_network_and_the_gateway_publishes_nothing() -> None:
    raw, example = _real()
    services = interpolate(raw, {**env_example(example), **SECRETS})["services"]
    assert services["proxy"]["image"].startswith("caddy:")
    facing = {
        (name, port)
        for name, service in services.items()
        for address, port in published(service)
        if address not in LOOPBACK
    }
    assert facing == {("proxy", 443), ("proxy", 80)}
    assert published(services["gateway"]) == [] and published(services["temporal-ui"]) == []
    assert ("127.0.0.1", 8233) in published(services["proxy"])  # the Temporal UI, via the proxy
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy temporal-ui:8080" in caddyfile and "basic_auth" in caddyfile


def test_every_navcycle_process_and_the_stream_replicas_are_in_the_production_shape() -> None:
    raw, example = _real()
    compose = interpolate(raw, {**env_example(example), **SECRETS})
    services = compose["services"]
    assert {serves(s) for s in services.values()} >= set(NAVCYCLE_PROCESSES)
    assert services["worker"]["deploy"]["replicas"] > 1
    for name, service in services.items():
        if serves(service):
            assert service["environment"]["NAVCYCLE_STREAM_REPLICAS"] == "3", name
            assert service["healthcheck"]["test"], name


def _without(path: str) -> Callable[[Compose], None]:
    *parents, leaf = path.split("/")

    def change(doc: Compose) -> None:
        node = doc
        for part in parents:
            node = node[part]
        del node[leaf]

    return change


def _set(path: str, value: Any) -> Callable[[Compose], None]:
    *parents, leaf = path.split("/")

    def change(doc: Compose) -> None:
        node = doc
        for part in parents:
            node = node[part]
        node[leaf] = value

    return change


def _filings_env(doc: Compose) -> dict[str, Any]:
    env = dict(doc["services"]["filings"]["environment"])
    doc["services"]["filings"]["environment"] = env
    return env


BROKEN: list[tuple[str, Callable[[Compose], None], str]] = [
    ("no healthcheck", _without("services/worker/healthcheck"), "worker has no healthcheck"),
    (
        "a port published twice",
        _set("services/minio/ports", ["127.0.0.1:8233:9001"]),
        "both publish host port 8233",
    ),
    (
        "the gateway published",
        _set("services/gateway/ports", ["8000:8000"]),
        "the gateway (gateway) publishes [('0.0.0.0', 8000)]",
    ),
    (
        "the gateway published on a random host port",
        _set("services/gateway/ports", ["8000"]),
        "the gateway (gateway) publishes",
    ),
    (
        "the Temporal UI published beside the proxy",
        _set("services/temporal-ui/ports", ["127.0.0.1:8234:8080"]),
        "the Temporal UI (temporal-ui) is published without the proxy",
    ),
    (
        "an admin port facing the network",
        _set("services/minio/ports", ["9001:9001"]),
        "minio publishes port 9001 to the network",
    ),
    ("no proxy", _without("services/proxy"), "no reverse proxy (Caddy)"),
    (
        "a proxy without its Caddyfile",
        _set("services/proxy/volumes", ["caddy-data:/data"]),
        "proxy mounts no Caddyfile",
    ),
    (
        "an unknown setting",
        lambda d: _filings_env(d).update(NAVCYCLE_DATABSE_URL="x"),
        "unknown settings ['NAVCYCLE_DATABSE_URL']",
    ),
    (
        "filings without its database",
        lambda d: _filings_env(d).pop("NAVCYCLE_DATABASE_URL"),
        "filings lacks ['NAVCYCLE_DATABASE_URL']",
    ),
    (
        "filings without object store keys",
        lambda d: _filings_env(d).pop("NAVCYCLE_S3_SECRET_KEY"),
        "filings lacks ['NAVCYCLE_S3_SECRET_KEY']",
    ),
    (
        "a service holding a secret it does not need",
        lambda d: d["services"]["registry"].update(
            environment={**d["services"]["registry"]["environment"], "NAVCYCLE_S3_SECRET_KEY": "k"}
        ),
        "registry holds the object store secret key",
    ),
    ("one worker", _set("services/worker/deploy", {"replicas": 1}), "the worker runs 1 replica"),
    (
        "the stream at one replica",
        lambda d: _filings_env(d).update(NAVCYCLE_STREAM_REPLICAS="1"),
        "filings keeps the event stream at 1 replicas",
    ),
    ("a missing service", _without("services/dashboard"), "navcycle serve dashboard"),
    (
        "a value the settings refuse",
        lambda d: _filings_env(d).update(NAVCYCLE_S3_ENDPOINT="http://minio:9000"),
        "filings: its settings do not validate",
    ),
    (
        "an undocumented variable",
        lambda d: _filings_env(d).update(NAVCYCLE_S3_BUCKET="${BUCKET_NAME:-navcycle}"),
        "does not list: ['BUCKET_NAME']",
    ),
    (
        "a one-shot job nobody waits for",
        _without("services/gateway/depends_on/setup"),
        "setup runs once but nothing waits",
    ),
]


@pytest.mark.parametrize(("why", "change", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_compose_file_is_caught(
    why: str, change: Callable[[Compose], None], expected: str
) -> None:
    raw, example = _real()
    broken = copy.deepcopy(raw)
    change(broken)
    found = problems(broken, example)
    assert any(expected in p for p in found), found


@pytest.mark.parametrize(
    ("why", "edit", "expected"),
    [
        ("a setting left out", lambda t: t.replace("NAVCYCLE_RPC_TIMEOUT_S=10\n", ""), "missing"),
        ("a made-up setting", lambda t: t + "NAVCYCLE_COLOUR=red\n", "NAVCYCLE_COLOUR"),
        ("a stale compose variable", lambda t: t + "REDIS_PASSWORD=\n", "REDIS_PASSWORD"),
        (
            "a required secret undocumented",
            lambda t: t.replace("# NATS_ROUTE_PASSWORD=\n", ""),
            "NATS_ROUTE_PASSWORD",
        ),
    ],
)
def test_a_broken_env_example_is_caught(
    why: str, edit: Callable[[str], str], expected: str
) -> None:
    raw, example = _real()
    found = problems(raw, edit(example))
    assert any(expected in p for p in found), found


def test_a_required_secret_without_a_value_is_caught() -> None:
    raw, _ = _real()
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(raw, {k: v for k, v in SECRETS.items() if k != "POSTGRES_PASSWORD"})
    assert interpolate("$${HOME} ${A:-x} ${B-y}", {"B": ""}) == "${HOME} x "


def nats_user_problems(raw: Compose) -> list[str]:
    """Every navcycle process on NATS as its own user, with its own password; every NATS server
    loading the users of deploy/nats/auth.conf with every password."""
    from shared.nats_auth import USERS, env_name

    found = []
    services: dict[str, Any] = raw.get("services", {})
    for name, service in services.items():
        env = service.get("environment") or {}
        if str(service.get("image", "")).startswith("nats:"):
            command = " ".join(service.get("command") or [])
            if "-c /etc/nats/auth.conf" not in command or "--user" in command:
                found.append(f"{name} does not load the users of deploy/nats/auth.conf")
            if "./deploy/nats/auth.conf:/etc/nats/auth.conf:ro" not in service.get("volumes", []):
                found.append(f"{name} does not mount deploy/nats/auth.conf")
            missing = {env_name(u) for u in USERS} - set(env)
            if missing:
                found.append(f"{name} lacks the passwords {sorted(missing)}")
            continue
        if "NAVCYCLE_NATS_URL" not in env:
            continue
        user = serves(service) or "operator"
        if env.get("NAVCYCLE_NATS_USER") != user:
            found.append(f"{name} is not on NATS as {user!r}: {env.get('NAVCYCLE_NATS_USER')!r}")
        if referenced(env.get("NAVCYCLE_NATS_PASSWORD", "")) != {env_name(user)}:
            found.append(f"{name} does not take its NATS password from {env_name(user)}")
        if "@" in env["NAVCYCLE_NATS_URL"]:
            found.append(f"{name} has credentials in its NATS URL, shared by every process")
    return found


def test_each_process_is_on_nats_as_its_own_user() -> None:
    raw, _ = _real()
    assert nats_user_problems(raw) == []


def test_a_process_on_another_users_nats_account_is_caught() -> None:
    raw, _ = _real()
    raw["services"]["gateway"]["environment"]["NAVCYCLE_NATS_USER"] = "operator"
    raw["services"]["nats-2"]["command"] = ["-js", "--user", "navcycle", "--pass", "x"]
    found = nats_user_problems(raw)
    assert any("gateway is not on NATS as 'gateway'" in p for p in found), found
    assert any("nats-2 does not load" in p for p in found), found


def test_the_compose_nats_users_are_the_generated_ones() -> None:
    from shared.nats_auth import compose_config

    assert (ROOT / "deploy" / "nats" / "auth.conf").read_text() == compose_config(), (
        "deploy/nats/auth.conf is stale: regenerate it (see its first lines)"
    )


def temporal_tls_problems(raw: Compose) -> list[str]:
    """Temporal requires mutual TLS; every process that talks to it has the client certificate."""
    found = []
    services: dict[str, Any] = raw.get("services", {})
    server = services.get("temporal", {}).get("environment") or {}
    if str(server.get("TEMPORAL_TLS_REQUIRE_CLIENT_AUTH")).lower() != "true":
        found.append("Temporal does not require a client certificate")
    if not server.get("TEMPORAL_TLS_FRONTEND_CERT"):
        found.append("Temporal's frontend has no TLS certificate")
    ui = services.get("temporal-ui", {}).get("environment") or {}
    if not ui.get("TEMPORAL_TLS_CERT"):
        found.append("the Temporal UI has no client certificate")
    tls = {"NAVCYCLE_TEMPORAL_TLS_CA", "NAVCYCLE_TEMPORAL_TLS_CERT", "NAVCYCLE_TEMPORAL_TLS_KEY"}
    for name, service in services.items():
        env = service.get("environment") or {}
        if "NAVCYCLE_TEMPORAL_ADDRESS" not in env or serves(service) in SERVICES_WITHOUT_TEMPORAL:
            continue
        if not tls <= set(env):
            found.append(f"{name} talks to Temporal without {sorted(tls - set(env))}")
            continue
        # host:container[:mode]; the host part may hold ${VAR:-default}.
        mounted = {
            str(v).removesuffix(":ro").rsplit(":", 1)[-1] for v in service.get("volumes") or []
        }
        missing = {env[k] for k in tls} - mounted
        if missing:
            found.append(f"{name} does not mount {sorted(missing)}")
    return found


# Every process gets the Temporal address from the shared settings; these never use it.
SERVICES_WITHOUT_TEMPORAL = {"registry", "filings", "assessment", "notifier", "dashboard"}


def test_temporal_runs_with_mutual_tls_and_its_clients_have_certificates() -> None:
    raw, _ = _real()
    assert temporal_tls_problems(raw) == []


def test_a_temporal_client_without_a_certificate_is_caught() -> None:
    raw, _ = _real()
    raw["services"]["worker"]["environment"].pop("NAVCYCLE_TEMPORAL_TLS_KEY")
    raw["services"]["temporal"]["environment"]["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] = "false"
    found = temporal_tls_problems(raw)
    assert any("worker talks to Temporal without" in p for p in found), found
    assert "Temporal does not require a client certificate" in found


def delivery_setting_problems(raw: Compose) -> list[str]:
    """The notifier takes every delivery setting from .env, each from its own variable."""
    found = []
    for name, service in (raw.get("services") or {}).items():
        if serves(service) != "notifier":
            continue
        env = service.get("environment") or {}
        for key in sorted(DELIVERY):
            if referenced(env.get(key, "")) != {key}:
                found.append(f"{name} does not take {key} from .env")
    return found


def test_the_notifier_takes_its_delivery_settings_from_env() -> None:
    raw, example = _real()
    assert sorted(k for k in DELIVERY if k.startswith("NAVCYCLE_NOTICE_")) == [
        "NAVCYCLE_NOTICE_BACKOFF_MAX_S",
        "NAVCYCLE_NOTICE_BACKOFF_S",
        "NAVCYCLE_NOTICE_CONCURRENCY",
        "NAVCYCLE_NOTICE_MAX_ATTEMPTS",
        "NAVCYCLE_NOTICE_POLL_S",
        "NAVCYCLE_NOTICE_TIMEOUT_S",
    ]
    assert delivery_setting_problems(raw) == []
    assert problems(raw, example) == []


def test_a_notifier_without_its_notice_settings_is_caught() -> None:
    raw, example = _real()
    env = raw["services"]["notifier"]["environment"]
    del env["NAVCYCLE_NOTICE_MAX_ATTEMPTS"]
    env["NAVCYCLE_NOTICE_TIMEOUT_S"] = "10"
    found = problems(raw, example)
    assert any("notifier lacks ['NAVCYCLE_NOTICE_MAX_ATTEMPTS']" in p for p in found), found
    refused = delivery_setting_problems(raw)
    assert "notifier does not take NAVCYCLE_NOTICE_MAX_ATTEMPTS from .env" in refused
    assert "notifier does not take NAVCYCLE_NOTICE_TIMEOUT_S from .env" in refused


def test_the_nats_monitoring_listens_inside_its_container_only() -> None:
    """Monitoring asks for no password: deploy/nats/auth.conf binds it to each container's
    loopback (where the health check asks), and no command line moves it elsewhere."""
    raw, _ = _real()
    auth = (ROOT / "deploy" / "nats" / "auth.conf").read_text().splitlines()
    assert [line for line in auth if line.startswith("http")] == ['http: "127.0.0.1:8222"']
    for name, service in raw["services"].items():
        if not str(service.get("image", "")).startswith("nats:"):
            continue
        command = service.get("command") or []
        assert not {"-m", "--http_port", "-ms", "--https_port"} & set(command), name
        assert "http://127.0.0.1:8222/healthz" in service["healthcheck"]["test"], name

"""deploy/k8s (kustomize) against the Kubernetes schemas, the Procfile, the Dockerfiles and the settings code.

The kustomizations are rendered here by a small renderer covering what they use (resources, namespace, images,
strategic-merge patches); where kubectl is installed its `kubectl kustomize` must render the same objects. Every
object is validated strictly (unknown fields rejected) with the schemas that ship inside the kubernetes-validate
package: no cluster and no network needed.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml
from deploy_contract import (
    BROWSER_FACING,
    LOOPBACK,
    REPO,
    SERVICE_DIRS,
    dockerfile_instructions,
    load_service_settings,
    normalized_argv,
)
from renewals_shared import config as shared_config

K8S = REPO / "deploy/k8s"
KUSTOMIZATIONS = {"base": K8S / "base", "production": K8S / "overlays/production"}
KUBERNETES_VERSION = "1.30.0"  # the oldest minor we promise to run on; every apiVersion used is GA there
API_VERSIONS = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Namespace": "v1",
    "Job": "batch/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
}
CLUSTER_SCOPED = {"Namespace"}
BACKENDS = {"postgres": 5432, "rabbitmq": 5672, "redis": 6379, "smtp": 587}
Object = dict[str, Any]


# ---- a small kustomize ---------------------------------------------------------------------------------------
def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as these patches use it: maps merge, lists of named maps merge by name, other lists replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(i, dict) and "name" in i for i in base + patch)
    ):
        merged_list = [copy.deepcopy(i) for i in base]
        for item in patch:
            match = next((i for i, b in enumerate(merged_list) if b["name"] == item["name"]), None)
            if match is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[match] = _merge(merged_list[match], item)
        return merged_list
    return copy.deepcopy(patch)


def _load_all(path: Path) -> list[Object]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(folder: Path) -> list[Object]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    supported = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
    assert set(kustomization) <= supported, f"the test's renderer does not know {set(kustomization) - supported}"
    objects: list[Object] = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        objects.extend(render(path) if path.is_dir() else _load_all(path))
    for patch_entry in kustomization.get("patches", []):
        for patch in _load_all(folder / patch_entry["path"]):
            targets = [
                i
                for i, o in enumerate(objects)
                if o["kind"] == patch["kind"] and o["metadata"]["name"] == patch["metadata"]["name"]
            ]
            assert len(targets) == 1, f"patch {patch['kind']}/{patch['metadata']['name']} matches {len(targets)}"
            objects[targets[0]] = _merge(objects[targets[0]], patch)
    for image in kustomization.get("images", []):
        for container in _containers(objects):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects


def _pod_spec(obj: Object) -> Object | None:
    if obj["kind"] in {"Deployment", "Job"}:
        return obj["spec"]["template"]["spec"]
    return None


def _containers(objects: list[Object], init: bool = True) -> list[Object]:
    out = []
    for obj in objects:
        spec = _pod_spec(obj)
        if spec:
            out.extend(spec.get("initContainers", []) if init else [])
            out.extend(spec["containers"])
    return out


def _key(obj: Object) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


@pytest.fixture(scope="module", params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Object]]:
    return request.param, render(KUSTOMIZATIONS[request.param])


def by_kind(objects: list[Object], kind: str) -> dict[str, Object]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def container_env(objects: list[Object], container: Object) -> dict[str, str]:
    """The environment a container gets from its envFrom ConfigMaps/Secrets and env entries."""
    configmaps, secrets = by_kind(objects, "ConfigMap"), by_kind(objects, "Secret")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]]["data"])
        else:
            env.update(secrets[source["secretRef"]["name"]]["stringData"])
    for item in container.get("env", []):
        env[item["name"]] = item.get("value", "")
    return env


def image_folder(image: str) -> str:
    repository = image.rsplit(":", 1)[0]
    return repository.rsplit("/", 1)[-1]


def web_port(container: Object) -> int:
    (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == "http"]
    return port


def dockerfile_uid(folder: str) -> int:
    final = dockerfile_instructions(REPO / folder / "Dockerfile")
    return int([rest for k, rest in final if k == "USER"][-1].split(":")[0])


# ---- tests -----------------------------------------------------------------------------------------------------
def test_kubectl_kustomize_renders_the_same_objects():
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl not installed: only the test's own renderer was used")
    for name, folder in KUSTOMIZATIONS.items():
        out = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        theirs = {_key(o): o for o in yaml.safe_load_all(out.stdout) if o}
        ours = {_key(o): o for o in render(folder)}
        assert theirs.keys() == ours.keys(), name
        for key, obj in ours.items():
            assert obj == theirs[key], f"{name}: {key} renders differently"


def test_every_object_validates_against_the_kubernetes_schemas(rendered):
    name, objects = rendered
    assert len(objects) > 30
    for obj in objects:
        assert obj["apiVersion"] == API_VERSIONS[obj["kind"]], f"{_key(obj)}: {obj['apiVersion']}"
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {_key(obj)} is invalid at {'.'.join(map(str, exc.path))}: {exc.message}")


def test_validation_rejects_a_broken_manifest():
    """The schema check is real: a typo'd field and a wrong type are refused."""
    deployment = copy.deepcopy(by_kind(render(KUSTOMIZATIONS["base"]), "Deployment")["order-web"])
    deployment["spec"]["replica"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(by_kind(render(KUSTOMIZATIONS["base"]), "Deployment")["order-web"])
    deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8001"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_every_procfile_process_is_a_deployment_running_its_command_from_its_image(rendered, procfile):
    _, objects = rendered
    deployments = by_kind(objects, "Deployment")
    expected = {name for name, p in procfile.items() if p.service is not None}
    assert set(deployments) == expected, "one Deployment per Procfile process (the dev SMTP sink excepted)"
    for name, deployment in deployments.items():
        process = procfile[name]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert tuple(container["command"]) == normalized_argv(process.argv), name
        folder, _ = SERVICE_DIRS[process.service]
        assert image_folder(container["image"]) == Path(folder).name, f"{name} runs the {folder} image"
        assert (REPO / folder / "Dockerfile").is_file()
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_web_processes_serve_probes_and_a_service_on_the_settings_port(rendered, procfile):
    _, objects = rendered
    deployments, services = by_kind(objects, "Deployment"), by_kind(objects, "Service")
    for name, process in procfile.items():
        if process.service is None or not process.is_web:
            continue
        (container,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        port = shared_config.SERVICE_PORTS[process.service]
        assert web_port(container) == port == process.bind[1], name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        service = services[name]
        assert (
            service["spec"]["selector"].items() <= deployments[name]["spec"]["template"]["metadata"]["labels"].items()
        )
        assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port, "http")], name


def test_every_process_has_resources_an_autoscaler_and_a_disruption_budget(rendered):
    _, objects = rendered
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(objects, "HorizontalPodAutoscaler").values()}
    pdbs = list(by_kind(objects, "PodDisruptionBudget").values())
    for name, deployment in by_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]
        for container in pod["spec"]["containers"]:
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{name}: {bound}"
        selecting = [
            p for p in pdbs if p["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
        ]
        assert len(selecting) == 1, f"{name}: one PodDisruptionBudget selects its pods"
        if name == "notifier-beat":
            assert name not in hpas, "the beat never scales out"
            continue
        hpa = hpas[name]
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert set(hpas) <= set(by_kind(objects, "Deployment")), "every autoscaler targets a Deployment of ours"


def test_exactly_one_beat_replaced_not_rolled(rendered):
    _, objects = rendered
    beats = [
        d
        for d in by_kind(objects, "Deployment").values()
        if "notifier.entrypoints.beat" in d["spec"]["template"]["spec"]["containers"][0]["command"]
    ]
    assert [b["metadata"]["name"] for b in beats] == ["notifier-beat"]
    assert beats[0]["spec"]["replicas"] == 1
    assert beats[0]["spec"]["strategy"] == {"type": "Recreate"}


def test_every_container_starts_with_real_mode_settings_reaching_in_cluster_names(rendered, procfile, settings_code):
    _, objects = rendered
    services = by_kind(objects, "Service")
    for name, deployment in by_kind(objects, "Deployment").items():
        service = procfile[name].service
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = container_env(objects, container)
        assert env["RENEWALS_MODE"] == "real"
        missing = {var for var in settings_code.must_set(service) if not env.get(var)}
        assert not missing, f"{name} ({service}) leaves {sorted(missing)} unset"
        unknown = set(env) - settings_code.names
        assert not unknown, f"{name} gets {sorted(unknown)}, which no settings code reads"
        databases = {k for k in env if k.endswith("_DATABASE_URL")}
        assert databases == ({f"{service.upper()}_DATABASE_URL"} if service != "gateway" else set()), name
        values = load_service_settings(service, env)  # SettingsError if the code refuses these settings
        settings = values["__settings__"]
        for var, value in values.items():
            if not isinstance(value, str) or not value.startswith(("http", "amqp", "redis", "smtp", "postgresql")):
                continue
            assert not LOOPBACK.search(value) or var in BROWSER_FACING, f"{name}: {var} points at the pod itself"
            host, port = urlsplit(value).hostname, urlsplit(value).port
            if var in BROWSER_FACING:
                continue
            assert host in services, f"{name}: {var} names {host}, which is no Service here"
            assert port in [p["port"] for p in services[host]["spec"]["ports"]], f"{name}: {var} port {port}"
        assert settings.broker_url.startswith("amqp://")
        if service in shared_config.DATABASE_SERVICES:
            assert settings.database_url.startswith("postgresql+psycopg://")
            assert urlsplit(settings.database_url).path == f"/{service}", f"{name}: its own database"


def test_internal_urls_name_the_web_service_of_each_peer(rendered, procfile):
    _, objects = rendered
    data = by_kind(objects, "ConfigMap")["renewals-config"]["data"]
    for name, process in procfile.items():
        if process.service and process.is_web and process.service != "gateway":
            url = data[f"{process.service.upper()}_SERVICE_URL"]
            assert url == f"http://{name}:{shared_config.SERVICE_PORTS[process.service]}"


def test_backends_are_external_services(rendered):
    _, objects = rendered
    services = by_kind(objects, "Service")
    for name, port in BACKENDS.items():
        spec = services[name]["spec"]
        assert spec["type"] == "ExternalName" and "." in spec["externalName"], name
        assert [p["port"] for p in spec["ports"]] == [port]


def test_secrets_hold_placeholders_only_and_configmaps_no_secrets(rendered):
    _, objects = rendered
    for name, secret in by_kind(objects, "Secret").items():
        assert "data" not in secret, "placeholders are readable stringData"
        for key, value in secret["stringData"].items():
            assert value == "" or "CHANGE-ME" in value, f"{name}.{key} looks like a real secret"
    for configmap in by_kind(objects, "ConfigMap").values():
        for key, value in configmap["data"].items():
            assert key not in shared_config.SECRET_NAMES and "@" not in value, f"{key} belongs in a Secret"


def test_migrations_job_migrates_every_database_then_declares_the_bus(rendered):
    _, objects = rendered
    job = by_kind(objects, "Job")["migrate"]
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] in {"Never", "OnFailure"}
    steps = {c["name"]: c for c in spec["initContainers"]}
    assert set(steps) == {f"migrate-{s}" for s in shared_config.DATABASE_SERVICES}
    for service in shared_config.DATABASE_SERVICES:
        step = steps[f"migrate-{service}"]
        assert image_folder(step["image"]) == Path(SERVICE_DIRS[service][0]).name
        assert f"upgrade('{service}', os.environ['{service.upper()}_DATABASE_URL'])" in " ".join(step["command"])
        assert set(container_env(objects, step)) == {f"{service.upper()}_DATABASE_URL"}
    (declare,) = spec["containers"]
    assert declare["command"] == ["renewals-bus", "declare"]
    assert container_env(objects, declare)["BROKER_URL"].startswith("amqp://")


def test_pods_run_as_the_images_non_root_user_read_only(rendered, procfile):
    _, objects = rendered
    for obj in objects:
        spec = _pod_spec(obj)
        if spec is None:
            continue
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec.get("automountServiceAccountToken") is False
        for container in spec.get("initContainers", []) + spec["containers"]:
            folder = next(f for f, _ in SERVICE_DIRS.values() if Path(f).name == image_folder(container["image"]))
            security = container["securityContext"]
            assert security["runAsUser"] == dockerfile_uid(folder) != 0, container["name"]
            assert security["allowPrivilegeEscalation"] is False
            assert security["readOnlyRootFilesystem"] is True


def test_production_overlay_pins_registry_images_and_https():
    objects = render(KUSTOMIZATIONS["production"])
    for container in _containers(objects):
        assert re.fullmatch(r"[a-z0-9.-]+/renewals/[a-z-]+:\d+\.\d+\.\d+", container["image"]), container["image"]
    assert by_kind(objects, "ConfigMap")["renewals-config"]["data"]["PUBLIC_BASE_URL"].startswith("https://")
    assert all(o["metadata"].get("namespace") == "renewals" for o in objects if o["kind"] != "Namespace")

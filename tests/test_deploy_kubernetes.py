"""deploy/kubernetes: every manifest valid against the Kubernetes schemas (offline), and the
pieces fit together: the config the pod reads, the ports, probes, volumes and the Secret."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tide.config import parse_config

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes still commonly run, and the newest schemas the package ships.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Custom resources: no schema ships with Kubernetes, so only their shape is checked here.
CUSTOM_KINDS = {"ServiceMonitor"}

Manifest = dict[str, Any]


def manifests() -> list[tuple[str, Manifest]]:
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found.append((str(path.relative_to(K8S)), doc))
    return found


def one(kind: str, name: str | None = None) -> Manifest:
    [doc] = [
        doc
        for _, doc in manifests()
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    return doc


def container() -> Manifest:
    [tide] = one("Deployment")["spec"]["template"]["spec"]["containers"]
    return tide


def mount_of(volume: str) -> str:
    [path] = [m["mountPath"] for m in container()["volumeMounts"] if m["name"] == volume]
    return path


def config_text() -> str:
    return one("ConfigMap")["data"]["config.yaml"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("name", "doc"),
    [(name, doc) for name, doc in manifests() if doc["kind"] not in CUSTOM_KINDS],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_manifest_is_valid_kubernetes(name: str, doc: Manifest, version: str):
    kubernetes_validate.validate(doc, version, strict=True)


def test_only_the_servicemonitor_is_a_custom_resource():
    kinds = {doc["kind"] for _, doc in manifests()}

    assert kinds == {
        "ConfigMap",
        "Deployment",
        "PersistentVolumeClaim",
        "Role",
        "RoleBinding",
        "Secret",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
    }
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(one("ServiceMonitor"), VERSIONS[-1], strict=True)


def test_the_validator_does_reject_a_broken_manifest():
    broken = {
        **one("Service", "tide"),
        "spec": {**one("Service", "tide")["spec"], "ports": [{"port": "http"}]},
    }

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def test_servicemonitor_metadata_is_valid_object_metadata():
    # Validate its ObjectMeta through a kind that has a schema; the spec is checked below.
    carrier = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": one("ServiceMonitor")["metadata"],
    }

    kubernetes_validate.validate(carrier, VERSIONS[-1], strict=True)


def test_servicemonitor_scrapes_metrics_through_the_service():
    monitor, service = one("ServiceMonitor"), one("Service", "tide")
    [endpoint] = monitor["spec"]["endpoints"]

    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


def test_servicemonitor_is_kept_apart_from_what_kubectl_apply_takes():
    # `kubectl apply -f deploy/kubernetes/` (not recursive) must work without the CRD.
    placed = [name for name, doc in manifests() if doc["kind"] == "ServiceMonitor"]

    assert placed == ["monitoring/servicemonitor.yaml"]


def test_one_replica_acts_the_next_one_waits_for_the_lease():
    spec = one("Deployment")["spec"]
    config = parse_config(config_text())

    assert spec["replicas"] == 1
    # A rolling update briefly runs two pods: safe only because the Lease decides who acts.
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert config.instance.lease is not None


def test_the_pod_may_hold_exactly_the_configured_lease_and_nothing_else():
    pod = one("Deployment")["spec"]["template"]["spec"]
    lease = parse_config(config_text()).instance.lease
    role, binding = one("Role"), one("RoleBinding")
    assert lease is not None

    assert pod["serviceAccountName"] == one("ServiceAccount")["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is True
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": pod["serviceAccountName"]}]
    granted = {
        (verb, name)
        for rule in role["rules"]
        for verb in rule["verbs"]
        for name in rule.get("resourceNames", ["*"])
    }
    assert all(r["apiGroups"] == ["coordination.k8s.io"] for r in role["rules"])
    assert all(r["resources"] == ["leases"] for r in role["rules"])
    # What tide.lease calls: read, create when missing, replace to renew or release.
    assert granted == {("create", "*"), ("get", lease.name), ("update", lease.name)}


def test_probes_ask_healthz_and_readyz_on_the_daemon_port():
    tide = container()
    [port] = [p for p in tide["ports"] if p["name"] == "http"]

    assert tide["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert tide["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    assert port["containerPort"] == 8888


def test_service_reaches_the_pods_port():
    service, tide = one("Service", "tide"), container()
    pod_labels = one("Deployment")["spec"]["template"]["metadata"]["labels"]
    [port] = service["spec"]["ports"]

    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert port["targetPort"] in {p["name"] for p in tide["ports"]}
    assert port["port"] == 8888


def test_pod_runs_as_non_root_on_a_read_only_root_filesystem():
    pod = one("Deployment")["spec"]["template"]["spec"]
    security = container()["securityContext"]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] >= 1000
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}


def test_resources_have_requests_and_a_memory_limit():
    resources = container()["resources"]

    assert {"cpu", "memory"} <= resources["requests"].keys()
    assert "memory" in resources["limits"]


def test_configmap_holds_a_valid_config_for_the_pod():
    config = parse_config(config_text(), "deploy/kubernetes/configmap.yaml")
    args = container()["args"]
    config_file = PurePosixPath(args[args.index("--config") + 1])

    assert config_file.parent == PurePosixPath(mount_of("config"))
    assert config_file.name in one("ConfigMap")["data"]
    assert config.server.address == "0.0.0.0"
    assert config.server.port == container()["ports"][0]["containerPort"]


def test_history_is_written_to_the_writable_var_volume():
    config = parse_config(config_text())
    volumes = {v["name"]: v for v in one("Deployment")["spec"]["template"]["spec"]["volumes"]}

    assert PurePosixPath(config.history.path).parent == PurePosixPath(mount_of("var"))
    claim = volumes["var"]["persistentVolumeClaim"]["claimName"]
    assert one("PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_webhooks_have_a_service_of_their_own_apart_from_the_dashboard():
    config = parse_config(config_text())
    ports = {p["name"]: p["containerPort"] for p in container()["ports"]}
    [hook] = one("Service", "tide-webhook")["spec"]["ports"]
    [http] = one("Service", "tide")["spec"]["ports"]

    assert config.webhooks.port == ports["webhook"] != config.server.port
    assert hook["targetPort"] == "webhook" and http["targetPort"] == "http"


def test_app_key_comes_from_the_secret_mount():
    config = parse_config(config_text())
    volumes = {v["name"]: v for v in one("Deployment")["spec"]["template"]["spec"]["volumes"]}
    key_file = PurePosixPath(config.github.app.private_key_file)

    assert key_file.parent == PurePosixPath(mount_of("github"))
    assert volumes["github"]["secret"]["secretName"] == one("Secret")["metadata"]["name"]
    assert key_file.name in one("Secret")["stringData"]


def test_the_image_ships_the_lease_client_the_config_asks_for():
    # The image installs exactly deploy/requirements.lock: the `kubernetes` extra must be in it.
    lock = (ROOT / "deploy" / "requirements.lock").read_text()

    assert "--extra=kubernetes" in lock.splitlines()[4]
    assert "\nkubernetes-asyncio==" in lock


def test_a_rolling_update_can_mount_the_history_volume_beside_the_old_pod():
    spec = one("Deployment")["spec"]["template"]["spec"]
    [term] = spec["affinity"]["podAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    pod_labels = one("Deployment")["spec"]["template"]["metadata"]["labels"]

    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= pod_labels.items()

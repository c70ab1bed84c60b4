"""The README beside each Helm release (templates/helm-readme.md.j2): its template values.

Every name in it (namespaces, Secrets, keys, files) comes from the same Release object the
values file is built from; the decisions (which labels, which Pod Security levels) are made
here, the words are the template's, as for every other target's notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackgen.serialize.text import render_each
from stackgen.targets.helm.kubernetes import JobPod, job_node_selector, node_selector

if TYPE_CHECKING:
    from stackgen.targets.helm.release import Release


def _labels(selector: dict[str, str]) -> str:
    if not selector:
        return "any node"
    return "nodes labelled " + ", ".join(f"`{k}={v}`" for k, v in selector.items())


def readme(release: Release, pod: JobPod, ca_file: str, chart: str, version: str) -> str:
    runner, kube, manager = release.runner, release.runner.kubernetes, release.manager
    job_labels = job_node_selector(manager, runner)
    # a fresh cluster has none of the site's labels: say how to set them
    custom_labels = {k: v for k, v in job_labels.items() if k != "kubernetes.io/hostname"}
    registry = (release.fleet.registry or "").split("/", 1)[0]
    # Names the template repeats are passed as values, not looked up on the Release in the
    # template: a lookup there costs a Jinja call each time, a tenth of a fleet's README time.
    # A README is never kept in the render cache (render_each): each names its own runner.
    text = render_each(
        "helm-readme.md.j2",
        runner=runner,
        kube=kube,
        pod=pod,
        name=runner.name,
        namespace=release.namespace,
        job_namespace=release.job_namespace,
        token_env=runner.token.env,
        token_secret=release.token_secret,
        certs_secret=release.certs_secret,
        certs_key=release.certs_key,
        cache_secret=release.cache_secret,
        cache_keys=release.cache_keys,
        job_secrets=pod.secrets,
        registry=release.fleet.registry,
        session_server=manager.session_server,
        chart=chart,
        version=version,
        ca_file=ca_file,
        custom_labels=custom_labels,
        custom_placement=_labels(custom_labels),
        node_name=manager.node.hostname or "<node name>",
        pod_security=[why for why, needed in (("run privileged", pod.privileged),
                                              ("mount host paths", bool(pod.host_paths))) if needed],
        host_bundle=release.fleet.ca_host_path,
        manager_placement=_labels(node_selector(manager.node) if kube.pin_manager else {}),
        job_placement=_labels(job_labels),
        registry_host=registry,
        registry_trusted=registry in release.fleet.ca_registries,
    )
    return text.rstrip("\n") + "\n"

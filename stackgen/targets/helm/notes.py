"""The README beside each Helm release (templates/helm-readme.md.j2): its template values.

Every name in it (namespaces, Secrets, keys, files) comes from the same Release object the
values file is built from; the decisions (which labels, which Pod Security levels) are made
here, the words are the template's, as for every other target's notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackgen.serialize.text import render_template
from stackgen.targets.helm.kubernetes import JobPod, job_node_selector, node_selector

if TYPE_CHECKING:
    from stackgen.targets.helm.release import Release


def _labels(selector: dict[str, str]) -> str:
    if not selector:
        return "any node"
    return "nodes labelled " + ", ".join(f"`{k}={v}`" for k, v in selector.items())


def readme(release: Release, pod: JobPod, ca_file: str, chart: str, version: str) -> str:
    runner, kube = release.runner, release.runner.kubernetes
    job_labels = job_node_selector(release.manager, runner)
    registry = (release.fleet.registry or "").split("/", 1)[0]
    text = render_template(
        "helm-readme.md.j2",
        release=release,
        runner=runner,
        kube=kube,
        pod=pod,
        chart=chart,
        version=version,
        ca_file=ca_file,
        labels=_labels,
        # a fresh cluster has none of the site's labels: say how to set them
        custom_labels={k: v for k, v in job_labels.items() if k != "kubernetes.io/hostname"},
        node_name=release.manager.node.hostname or "<node name>",
        pod_security=[why for why, needed in (("run privileged", pod.privileged),
                                              ("mount host paths", bool(pod.host_paths))) if needed],
        host_bundle=release.fleet.ca_host_path,
        manager_labels=node_selector(release.manager.node) if kube.pin_manager else {},
        job_labels=job_labels,
        registry_host=registry,
        registry_trusted=registry in release.fleet.ca_registries,
    )
    return text.rstrip("\n") + "\n"

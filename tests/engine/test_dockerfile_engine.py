"""`docker build` of the dockerfile target's context, for real.

The FROM image (the site's images.runner) is the gitlab-runner stand-in, Debian like the
real Ubuntu-based image, so the build runs the generated `update-ca-certificates`. The
built image's system bundle must then trust the site CA, and the runner's own
certs/<gitlab-host>.crt must be there in a fresh container (its /etc/gitlab-runner volume).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import docker.errors
import pytest

from tests.engine import managers
from tests.engine.conftest import GITLAB_HOST, Images, Site
from tests.engine.daemon import Engine

CHECK = """
set -e
printf '%s' "$LEAF" > /tmp/leaf.pem
openssl verify -CAfile /etc/ssl/certs/ca-certificates.crt /tmp/leaf.pem
ls /usr/local/share/ca-certificates/
cmp /etc/gitlab-runner/certs/{host}.crt "$SSL_BUNDLE" && echo runner-cert-present
"""


@pytest.mark.parametrize("profiles", [("bids", "preproc", "self-signed-certs"), ("kaniko-harbor", "self-signed-certs")],
                         ids="+".join)
def test_the_built_image_trusts_the_site_ca(profiles: tuple[str, ...], engine: Engine, engine_images: Images,
                                             site: Site, tmp_path: Path) -> None:
    _, out = managers.generate(profiles, "dockerfile", site.file, tmp_path / "image")
    ref = f"stackgen-engine/runner-ca-built:{uuid.uuid4().hex[:10]}"
    try:
        try:
            engine.client.images.build(path=str(out), tag=ref, pull=False, rm=True, forcerm=True)
        except docker.errors.BuildError as e:
            log = "".join(str(c.get("stream", c.get("error", ""))) for c in e.build_log)
            pytest.fail(f"docker build failed: {e}\n{log[-3000:]}", pytrace=False)
        bundle = next(out.glob("gitlab-runner-certs/*.crt")).read_text()
        container = engine.client.containers.create(
            ref, ["-c", f"printf '%s' \"$BUNDLE\" > /tmp/bundle.crt; {CHECK.format(host=GITLAB_HOST)}"],
            entrypoint=["/bin/sh"], environment={"LEAF": site.leaf_pem.decode(), "BUNDLE": bundle,
                                                 "SSL_BUNDLE": "/tmp/bundle.crt"},
            labels={"io.stackgen.engine-test": "dockerfile"})
        try:
            container.start()
            status = container.wait(timeout=60)
            output = container.logs().decode(errors="replace")
        finally:
            container.remove(force=True, v=True)
        assert status["StatusCode"] == 0, output
        assert "/tmp/leaf.pem: OK" in output
        assert "runner-cert-present" in output
    finally:
        try:
            engine.client.images.remove(ref, force=True)
        except docker.errors.ImageNotFound:
            pass

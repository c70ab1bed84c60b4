"""Issue 10: cache, executors, checked escape hatches, host installs, Heptapod PAAS, metrics."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import stackgen
from stackgen.checks.runner_keys import GLOBAL, RUNNER, key_problems
from stackgen.targets.docker_host import wrapper_script
from tests.runner_keys import check_config

CA_PROFILES = ["self-signed-certs"]


def _profile(tmp_path: Path, text: str, name: str = "x") -> Path:
    folder = tmp_path / "p"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(text)
    return folder


def _gen(tmp_path: Path, text: str, target: str, *extra: str) -> dict[str, str]:
    return stackgen.generate(["x", *extra], target, profile_dirs=[_profile(tmp_path, text)])


def _runner_toml(files: dict[str, str], node: str = "data") -> dict[str, Any]:
    doc = tomllib.loads(files[f"{node}/config.toml"])
    assert check_config(doc) == []
    return doc["runners"][0]  # type: ignore[no-any-return]


MINIO = """
runners:
  x:
    cache:
      type: s3
      shared: true
      path: ci
      s3: {server_address: "minio.example.org:9000", bucket_name: runner-cache, bucket_location: us-east-1}
"""


# --- 1. cache ----------------------------------------------------------------------------

def test_s3_cache_is_written_with_references_only(tmp_path: Path) -> None:
    cache = _runner_toml(_gen(tmp_path, MINIO, "config-toml"))["cache"]
    assert cache["Type"] == "s3" and cache["Shared"] is True and cache["Path"] == "ci"
    assert cache["s3"] == {
        "ServerAddress": "minio.example.org:9000", "BucketName": "runner-cache",
        "BucketLocation": "us-east-1", "Insecure": False, "AuthenticationType": "access-key",
        "AccessKey": "${CACHE_S3_ACCESS_KEY}", "SecretKey": "${CACHE_S3_SECRET_KEY}",
    }


def test_iam_cache_needs_no_keys(tmp_path: Path) -> None:
    text = MINIO.replace("bucket_location: us-east-1", "authentication_type: iam")
    assert "AccessKey" not in _runner_toml(_gen(tmp_path, text, "config-toml"))["cache"]["s3"]


def test_literal_cache_credential_is_refused(tmp_path: Path) -> None:
    text = MINIO.replace("bucket_name: runner-cache", "bucket_name: b, secret_key: v0tdpjgpsDRq")
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, text, "config-toml")
    assert "secret_key" in str(err.value) and "v0tdpjgpsDRq" not in str(err.value)


@pytest.mark.parametrize("target", ["swarm", "compose"])
def test_cache_keys_are_secret_files_substituted_at_start(tmp_path: Path, target: str) -> None:
    files = _gen(tmp_path, MINIO, target)
    text = "\n".join(files.values())
    assert "cache-s3-secret-key" in text and "read_credential" in text
    if target == "swarm":
        assert "docker secret create gitlab-runner-cache-s3-secret-key" in files["stack.yml"]


def test_wrapper_substitutes_credentials(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "tpl").write_text('t = "${TOK}"\nk = "${KEY}"\n')
    (tmp_path / "tok").write_text("glrt-abc\n")
    (tmp_path / "key").write_text("a/b+c=\n")
    script = wrapper_script([("TOK", str(tmp_path / "tok"))], str(tmp_path / "tpl"),
                            str(tmp_path / "out"), ["true"], [("KEY", str(tmp_path / "key"))])
    subprocess.run(["sh", "-c", script, "sh"], check=True)
    assert (tmp_path / "out").read_text() == 't = "glrt-abc"\nk = "a/b+c="\n'


def test_helm_names_the_chart_cache_secret(tmp_path: Path) -> None:
    files = _gen(tmp_path, MINIO, "helm")
    values = YAML(typ="safe").load(files["x/values.yaml"])
    assert values["runners"]["cache"] == {"secretName": "example-x-cache"}
    assert "AccessKey" not in values["runners"]["config"]  # the chart sets them
    assert "--from-literal=secretkey=" in files["x/README.md"]


def test_cache_behind_the_site_ca_warns_until_manager_and_helper_trust_it(tmp_path: Path) -> None:
    folder = _profile(tmp_path, MINIO)
    untrusted = stackgen.assemble(["x"], profile_dirs=[folder]).findings
    assert any("helper container" in f.message for f in untrusted)
    assert any("system trust store" in f.message for f in untrusted)
    trusted = stackgen.assemble(["x", "self-signed-certs"], profile_dirs=[folder]).findings
    assert not any("cache" in f.message for f in trusted)


@pytest.mark.parametrize("target", ["swarm", "compose"])
def test_stock_image_adds_the_ca_to_its_store_for_a_private_cache(tmp_path: Path, target: str) -> None:
    # the image's entrypoint copies /etc/gitlab-runner/certs/ca.crt into the system store
    files = _gen(tmp_path, MINIO, target, "self-signed-certs")
    spec = files["stack.yml" if target == "swarm" else "data/compose.yml"]
    assert "target: /etc/gitlab-runner/certs/ca.crt" in spec
    assert "/etc/gitlab-runner/certs/ca.crt" in files["NOTES.md"]
    plain = _gen(tmp_path, "runners:\n  x: {}\n", target, "self-signed-certs")
    assert "certs/ca.crt" not in plain["stack.yml" if target == "swarm" else "data/compose.yml"]


def test_helper_gets_the_ca_mount_and_environment(tmp_path: Path) -> None:
    # the helper container that moves cache archives gets the job's binds and variables
    runner = _runner_toml(_gen(tmp_path, MINIO, "config-toml", "self-signed-certs"))
    assert any(v.endswith(":/etc/ssl/stackgen/ca-certificates.crt:ro") for v in runner["docker"]["volumes"])
    assert "SSL_CERT_FILE=/etc/ssl/stackgen/ca-certificates.crt" in runner["environment"]


# --- 2. executors ------------------------------------------------------------------------

def test_shell_executor_has_no_docker_table(tmp_path: Path) -> None:
    runner = _runner_toml(_gen(tmp_path, "runners:\n  x:\n    executor: shell\n", "config-toml"))
    assert runner["executor"] == "shell" and "docker" not in runner


def test_container_settings_on_a_shell_runner_are_refused(tmp_path: Path) -> None:
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, "runners:\n  x:\n    executor: shell\n    devices: [/dev/fuse]\n", "config-toml")
    assert "shell executor runs no job container" in str(err.value) and "x.yaml:4" in str(err.value)


def test_kubernetes_executor_in_config_toml(tmp_path: Path) -> None:
    runner = _runner_toml(_gen(tmp_path, "runners:\n  x:\n    executor: kubernetes\n", "config-toml"))
    assert runner["kubernetes"]["namespace"] == "gitlab-ci" and "docker" not in runner


@pytest.mark.parametrize("target", ["swarm", "compose", "helm", "dockerfile"])
def test_targets_refuse_executors_they_cannot_run(tmp_path: Path, target: str) -> None:
    text = "flavor: heptapod\nrunners:\n  x:\n    executor: clever-docker\n"
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, text, target, "self-signed-certs")
    assert f"the {target} target cannot run runner 'x'" in str(err.value)
    assert "x.yaml:4" in str(err.value)


def test_fork_executor_needs_its_flavor(tmp_path: Path) -> None:
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, "runners:\n  x:\n    executor: clever-docker\n", "config-toml")
    assert "flavor: heptapod" in str(err.value)


# --- 3. escape hatches -------------------------------------------------------------------

HATCH = """
manager_config: {log_format: json}
runners:
  x:
    runner_config:
      output_limit: 8192
      feature_flags: {FF_USE_FASTZIP: true}
      docker: {ulimit: {nofile: "65536:65536"}}
"""


def test_escape_hatches_merge_into_config_toml(tmp_path: Path) -> None:
    files = _gen(tmp_path, HATCH, "config-toml")
    doc = tomllib.loads(files["data/config.toml"])
    assert check_config(doc) == []
    runner = doc["runners"][0]
    assert doc["log_format"] == "json" and runner["output_limit"] == 8192
    assert runner["feature_flags"] == {"FF_USE_FASTZIP": True}
    assert runner["docker"]["ulimit"] == {"nofile": "65536:65536"}
    assert runner["docker"]["image"] == "alpine:3.20"  # the typed keys are still there


@pytest.mark.parametrize(("extra", "message"), [
    ("output_limt: 5", "did you mean 'output_limit'?"),
    ("docker: {privilged: true}", "did you mean 'privileged'?"),
    ("output_limit: '5'", "must be an integer"),
    ("feature_flags: {FF_X: 'yes'}", "must be a table of booleans"),
    ("cc_token: '${CC_TOKEN}'", "the heptapod flavor adds it"),
])
def test_unknown_or_mistyped_keys_are_errors(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, f"runners:\n  x:\n    runner_config: {{{extra}}}\n", "config-toml")
    assert message in str(err.value) and "x.yaml:3" in str(err.value)


def test_typed_model_wins_a_conflict_with_an_error_naming_both(tmp_path: Path) -> None:
    text = "runners:\n  x:\n    image: debian:12\n    runner_config: {docker: {image: other}}\n"
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, text, "config-toml")
    message = str(err.value)
    assert "runners.x.runner_config.docker.image" in message and "runners.x.image" in message
    assert "x.yaml:4" in message


def test_equal_values_are_no_conflict(tmp_path: Path) -> None:
    text = "runners:\n  x:\n    runner_config: {executor: docker, docker: {privileged: false}}\n"
    assert _runner_toml(_gen(tmp_path, text, "config-toml"))["executor"] == "docker"


@pytest.mark.parametrize("extra", ["cc_token: abcdefgh", "cache: {s3: {SecretKey: abc}}",
                                   "docker: {host: tcp://u:pw@h:2376}"])
def test_literal_secrets_in_escape_hatches_are_refused(tmp_path: Path, extra: str) -> None:
    text = f"flavor: heptapod\nrunners:\n  x:\n    runner_config: {{{extra}}}\n"
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, text, "config-toml")
    assert "never writes secret values" in str(err.value)


def test_key_table_covers_what_the_model_writes() -> None:
    assert key_problems({"listen_address": "[::]:9252", "sentry_dsn": "x"}, GLOBAL) == []
    assert key_problems({"custom": {"run_exec": "/x"}, "cache": {"Type": "s3"}}, RUNNER) == []


# --- 4. host installs --------------------------------------------------------------------

def test_systemd_unit_beside_config_toml() -> None:
    files = stackgen.generate(["preproc"], "config-toml", sets=["manager.stop_grace_period=30m"])
    unit = files["processing/gitlab-runner.service"]
    for line in ["KillSignal=SIGQUIT", "TimeoutStopSec=1800", "Restart=always",
                 "EnvironmentFile=/etc/gitlab-runner/tokens.env", "WantedBy=multi-user.target",
                 "ExecStart=/usr/bin/gitlab-runner run --config /etc/gitlab-runner/config.toml "
                 "--working-directory /home/gitlab-runner --service gitlab-runner --user gitlab-runner"]:
        assert line in unit.splitlines()
    assert "systemctl enable --now gitlab-runner.service" in files["NOTES.md"]


# --- 5. Heptapod PAAS --------------------------------------------------------------------

def test_heptapod_paas_single_organisation() -> None:
    files = stackgen.generate(["heptapod-paas"], "config-toml")
    doc = tomllib.loads(files["data/config.toml"])
    assert check_config(doc) == []
    runner = doc["runners"][0]
    assert doc["state_file"] == "/srv/heptapod-runner/paas-runner-state.json"
    assert runner["executor"] == "clever-docker" and runner["cc_token"] == "${CC_TOKEN}"
    assert runner["cc_extra_env"] == {"CC_ENABLE_HEPTAPOD_RUNNER": "true"}
    assert runner["cache"]["s3"]["BucketName"] == "heptapod-ci"
    unit = files["data/heptapod-paas-runner.service"].splitlines()
    assert {"TimeoutStopSec=120", "Restart=always", "RestartSec=125", "KillSignal=SIGTERM",
            "User=heptapod-runner"} <= set(unit)
    assert "envsubst" in files["NOTES.md"] and "$CC_TOKEN" in files["NOTES.md"]


def test_heptapod_paas_multi_tenant() -> None:
    files = stackgen.generate(["heptapod-paas-multi-tenant"], "config-toml")
    runner = tomllib.loads(files["data/config.toml"])["runners"][0]
    assert runner["cc_multi_tenant"] is True and "cc_token" not in runner and "cache" not in runner


# --- 6. metrics --------------------------------------------------------------------------

def test_metrics_everywhere() -> None:
    sets = ["manager.metrics.enabled=true"]
    toml = stackgen.generate(["preproc"], "config-toml", sets=sets)["processing/config.toml"]
    assert tomllib.loads(toml)["listen_address"] == "[::]:9252"
    stack = YAML(typ="safe").load(stackgen.generate(["preproc"], "swarm", sets=sets)["stack.yml"])
    assert 9252 in [p["published"] for p in stack["services"]["runner-processing"]["ports"]]
    compose = stackgen.generate(["preproc"], "compose", sets=sets)["processing/compose.yml"]
    assert 9252 in [p["published"] for p in YAML(typ="safe").load(compose)["services"]["runner"]["ports"]]
    helm = stackgen.generate(["preproc"], "helm", sets=sets)
    values = YAML(typ="safe").load(helm["preproc/values.yaml"])
    assert values["metrics"] == {"enabled": True, "portName": "metrics", "port": 9252}
    assert "listen_address" not in values["runners"]["config"]  # the chart sets it


# --- README ------------------------------------------------------------------------------

def test_readme_escape_hatch_example_builds(tmp_path: Path) -> None:
    from tests.test_readme import _block

    folder = _profile(tmp_path, _block("# profiles/tuned.yaml"), "tuned")
    doc = tomllib.loads(stackgen.generate(["tuned"], "config-toml", profile_dirs=[folder])["data/config.toml"])
    assert check_config(doc) == [] and doc["runners"][0]["output_limit"] == 16384


@pytest.mark.parametrize("marker", ["every runner of the build shares one MinIO", "job_user:"])
def test_readme_site_snippets_are_valid(marker: str) -> None:
    from stackgen.errors import Origin
    from stackgen.layers.located import load_yaml_text
    from stackgen.layers.schema import validate
    from tests.test_readme import _block

    doc = load_yaml_text(_block(marker), Origin("site", "README.md"))
    assert validate(doc, "site", "README.md") == []


# --- hostile values through the new tables ------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stackgen import model as mdl  # noqa: E402
from tests.strategies import text  # noqa: E402


@given(value=text(), path=text(), bucket=text())
def test_hostile_values_in_cache_and_escape_hatch_read_back(value: str, path: str, bucket: str) -> None:
    runner = mdl.Runner(
        name="x", token=mdl.TokenRef("RUNNER_TOKEN_X"), executor="clever-docker",
        cache=mdl.Cache(path=path, bucket=bucket or "b", server_address="minio.example.org"),
        runner_config=mdl.freeze({"cc_extra_env": {"V": value}}),  # type: ignore[arg-type]
    )
    node = mdl.Node("data", "data01.example.org")
    fleet = mdl.Fleet("f", "https://gitlab.example.org",
                      (mdl.Manager("data", node, "gitlab/gitlab-runner:v18.5.0", (runner,)),),
                      flavor="heptapod")
    try:
        files = stackgen.render(fleet, "config-toml")
    except stackgen.UserError:
        return  # a value validation refuses (control characters) is not written
    doc = tomllib.loads(files["data/config.toml"])
    assert check_config(doc) == []
    out = doc["runners"][0]
    assert out["cc_extra_env"] == {"V": value}
    assert out["cache"].get("Path", "") == path and out["cache"]["s3"]["BucketName"] == (bucket or "b")


@given(st.sampled_from(["/srv/my runner", "/srv/$HOME", "/srv/100%"]))
def test_unit_values_are_escaped_for_systemd(path: str) -> None:
    from stackgen.targets.systemd import unit

    manager = mdl.Manager("data", mdl.Node("data", "h.example.org"), "gitlab/gitlab-runner:v18.5.0", (),
                          service=mdl.HostService(working_directory=path))
    line = next(ln for ln in unit(manager).splitlines() if ln.startswith("WorkingDirectory="))
    assert "$$" in line or "%%" in line or line.endswith('"')


def test_only_credentials_and_whole_references_are_delivered(tmp_path: Path) -> None:
    text = ("runners:\n  x:\n    runner_config:\n      pre_build_script: echo ${CI_JOB_ID}\n"
            "      clone_url: ${CLONE_URL}\n")
    files = _gen(tmp_path, text, "swarm")
    assert "runner-token-x" in files["stack.yml"] and "clone-url" in files["stack.yml"]
    assert "ci-job-id" not in files["stack.yml"]


def test_a_second_session_server_is_an_error_not_a_crash(tmp_path: Path) -> None:
    # the example site enables manager.session_server; the escape hatch would write another
    text = "manager_config:\n  session_server: {session_timeout: 60}\nrunners:\n  x: {}\n"
    with pytest.raises(stackgen.UserError) as err:
        _gen(tmp_path, text, "config-toml")
    assert "manager_config.session_server" in str(err.value) and "x.yaml:2" in str(err.value)

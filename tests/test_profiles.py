"""Built-in profiles, includes, and the schema/validate commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import stackgen
from stackgen.cli import main
from tests.conftest import BUILTIN_PROFILES, ROLE_PROFILES


@pytest.mark.parametrize("name", BUILTIN_PROFILES)
def test_builtin_profiles_are_valid_and_described(name: str) -> None:
    # the full input checks (schema, secrets, values): the CLI skips them for built-ins,
    # which ship with the package, so this test is where they run
    from stackgen.errors import Origin
    from stackgen.layers.located import load_yaml_file
    from stackgen.layers.schema import validate
    from stackgen.resources import data_dir

    path = data_dir("profiles") / f"{name}.yaml"
    doc = load_yaml_file(path, Origin("profile", path.name, profile=name))
    assert validate(doc, "profile", path.name) == []
    summary = next(s for s in stackgen.list_profiles() if s.name == name)
    assert summary.builtin and len(summary.description) > 20


@pytest.mark.parametrize("name", ROLE_PROFILES)
def test_every_role_profile_validates_for_every_target(name: str) -> None:
    result = CliRunner().invoke(main, ["validate", name])
    assert result.exit_code == 0, result.output


def test_include_merges_before_the_includer(tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    (d / "base.yaml").write_text("runners:\n  r:\n    image: base:1\n    tags: [a]\n")
    (d / "child.yaml").write_text("include: [base]\nrunners:\n  r:\n    image: child:2\n    tags: [b]\n")
    runner = stackgen.build(["child"], profile_dirs=[d]).runners[0]
    assert runner.image == "child:2"  # an includer overrides what it includes
    assert runner.tags == ("a", "b")


def test_included_profile_counts_once(tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    (d / "base.yaml").write_text("runners:\n  r:\n    tags: [a]\n")
    (d / "x.yaml").write_text("include: [base]\n")
    (d / "y.yaml").write_text("include: [base]\n")
    assert stackgen.build(["x", "y"], profile_dirs=[d]).runners[0].tags == ("a",)


def test_user_profile_shadows_builtin(tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    (d / "bids.yaml").write_text("description: our own bids\nrunners:\n  bids:\n    tags: [ours]\n")
    assert stackgen.build(["bids"], profile_dirs=[d]).runners[0].tags == ("ours",)


def test_conflicting_dind_modes_are_refused() -> None:
    with pytest.raises(stackgen.UserError) as err:
        stackgen.build(["dind-build", "dind-build-socket"])
    assert "conflicting values" in str(err.value)


@pytest.mark.parametrize("kind", ["profile", "site"])
def test_schema_command_prints_json_schema(kind: str) -> None:
    result = CliRunner().invoke(main, ["schema", "--kind", kind])
    schema = json.loads(result.stdout)
    assert "runners" in schema["properties"]
    assert ("include" in schema["properties"]) == (kind == "profile")


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    d = tmp_path / "p"
    d.mkdir()
    (d / "x.yaml").write_text("runners:\n  x:\n    privilged: true\n    tags: bids\n    limit: -1\n")
    with pytest.raises(stackgen.UserError) as err:
        stackgen.build(["x"], profile_dirs=[d])
    assert len(err.value.problems) == 3


def test_warns_when_the_site_ca_covers_gitlab_but_no_manager_trusts_it() -> None:
    untrusted = stackgen.assemble(["preproc"]).findings
    assert any("no runner manager in this build trusts it" in f.message for f in untrusted)
    trusted = stackgen.assemble(["preproc", "self-signed-certs"]).findings
    assert not any("trusts it" in f.message for f in trusted)

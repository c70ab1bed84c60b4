"""Hypothesis strategies for the model: plausible fleets whose values are hostile text.

Free-text values (descriptions, environment values, tags, command arguments, paths) are
always drawn from hostile text: quotes, newlines, unicode, `{{`, `${`, `#`, `:`. Values a
consumer parses strictly (image references, host names, labels, addresses) are valid in
most fleets and hostile in some ("evil" fleets), which validation must then reject.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from stackgen import model as m
from stackgen.fleet.builder import image_family
from stackgen.resources import data_dir

# Characters that mean something to YAML, TOML, compose, Helm tpl, Dockerfiles or shells.
SPECIALS = [
    "{{", "}}", "{{ x }}", "${X}", "${", "$", "$$", "#", " #", ":", ": ", "'", '"', "\\", "`",
    "{%", "%}", "- ", "? ", "!", "&a", "*a", "|", ">", "---", "...", "é", "日本", "\u2028",
    "\ufeff", "😀", "=", ",", ";", "&&", "[x]", " ", "\\\n",
]
CONTROLS = ["\n", "\t", "\r", "\x00", "\x1b", "\u0085", "\x7f"]
# printable text: no control characters (Cc) and no lone surrogates (Cs)
PRINTABLE = st.characters(codec="utf-8", blacklist_categories=("Cc", "Cs", "Zl", "Zp"))


def text(max_parts: int = 6, multiline: bool = False, evil: bool = False) -> Any:
    """Hostile text; valid for stackgen unless `evil` (control characters) or a line break
    lands in a single-line value."""
    specials = [s for s in SPECIALS if multiline or "\n" not in s]
    if multiline:
        specials += ["\n", "\t"]
    if evil:
        specials += CONTROLS
    part = st.one_of(
        st.sampled_from(specials),
        st.text(st.characters(codec="utf-8") if evil else PRINTABLE, max_size=6),
        st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
    )
    return st.lists(part, max_size=max_parts).map("".join)


def strict(valid: list[str], evil: bool) -> Any:
    """One of `valid`, or in an evil fleet sometimes hostile text."""
    if not evil:
        return st.sampled_from(valid)
    return st.one_of(st.sampled_from(valid), text(4, evil=True))


names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
env_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
IMAGES = ["alpine:3.20", "docker:27.3", "nipy/heudiconv:1.3.2", "gcr.io/kaniko-project/executor:v1.23.2",
          "harbor.example.org:5050/ops/tool:1.0", "localhost/x@sha256:" + "a" * 64]
RUNNER_IMAGES = ["gitlab/gitlab-runner:v18.5.0", "gitlab/gitlab-runner:alpine-v18.5.0",
                 "harbor.example.org/mirror/gitlab-runner:v18.5.0"]
images = st.sampled_from(IMAGES)
hostnames = st.sampled_from(["data01.example.org", "proc01", "10.0.0.5", "a-b.c-d.example"])
tags = st.one_of(
    st.sampled_from(["bids", "{{x}}", "$a", "${b}", "#t", "a:b", "é", "'q'", '"d"', "`x`"]),
    text(3).map(lambda s: "".join(s.split()).replace(",", "") or "t"),
)
env_values = st.one_of(
    text(8, multiline=True),
    st.sampled_from(["tcp://docker:2376", "1", "a=b", "$PATH:/x", "${CI}", "{{ .Values }}", ""]),
)


def paths(evil: bool = False) -> Any:
    valid = st.one_of(
        st.sampled_from(["/data", "/mnt/data/mri", "/certs/client", "/a b/c", "/x$y", "/q'\"",
                         "/#x", "/{{x}}", "/${HOME}/x", "/é/日本"]),
        text(4).map(lambda s: "/v/" + s.replace(":", "")),
    )
    return st.one_of(valid, text(3, evil=True).map(lambda s: "/" + s)) if evil else valid


@st.composite
def volumes(draw: Any, evil: bool) -> m.Volume:
    source = draw(st.one_of(st.none(), paths(evil), st.sampled_from(["cache", "named_vol"])))
    return m.Volume(draw(paths(evil)), source, draw(st.booleans()))


@st.composite
def services(draw: Any, evil: bool) -> m.Service:
    return m.Service(
        draw(st.one_of(st.just("docker:27.3-dind"), strict(IMAGES, evil))),
        draw(st.one_of(st.none(), strict(["docker", "db cache", "a,b"], evil))),
        tuple(draw(st.lists(text(4, multiline=True, evil=evil), max_size=2))),
        tuple(draw(st.lists(st.sampled_from(["", "sh", "-c"]), max_size=2))),
    )


@st.composite
def kubernetes(draw: Any, evil: bool) -> m.KubernetesOptions:
    keys = strict(["role", "example.com/zone", "kubernetes.io/arch", "disk"], evil)
    values = strict(["data", "processing", "", "x86_64", "A_b.c-1"], evil)
    return m.KubernetesOptions(
        namespace=draw(st.one_of(st.just("gitlab-ci"), names)),
        node_selector=tuple(draw(st.dictionaries(keys, values, max_size=2)).items()),
        fuse=draw(st.sampled_from(["privileged", "device-plugin"])),
    )


@st.composite
def runners(draw: Any, name: str, evil: bool) -> m.Runner:
    k8s = draw(st.booleans())  # half the runners avoid what Kubernetes cannot express
    docker_only = ["/dev/fuse", "/dev/kvm:/dev/kvm:rwm"]
    return m.Runner(
        name=name,
        description=draw(text(6, multiline=True, evil=evil)),
        tags=tuple(draw(st.lists(tags, max_size=3, unique=True))),
        run_untagged=draw(st.booleans()),
        token=m.TokenRef(env="RUNNER_TOKEN_" + name.upper().replace("-", "_")),
        image=draw(strict(IMAGES, evil)),
        privileged=draw(st.booleans()),
        devices=tuple(draw(st.lists(strict(["/dev/fuse"] if k8s else docker_only, evil),
                                    max_size=2, unique=True))),
        security_opt=tuple(draw(st.lists(st.sampled_from(
            ["apparmor=unconfined"] if k8s else
            ["apparmor=unconfined", "seccomp=unconfined", "no-new-privileges"]),
            max_size=2, unique=True))),
        cap_add=tuple(draw(st.lists(strict(["NET_ADMIN", "SYS_PTRACE"], evil), max_size=1))),
        volumes=tuple(draw(st.lists(volumes(evil), max_size=3, unique_by=lambda v: v.target))),
        services=tuple(draw(st.lists(services(evil), max_size=2))),
        pull_policy=tuple(draw(st.lists(st.sampled_from(["always", "if-not-present", "never"]),
                                        max_size=2, unique=True))),
        environment=tuple(draw(st.dictionaries(env_names, env_values, max_size=4)).items()),
        shm_size=draw(st.sampled_from([0, 0, 1 << 30])),
        limit=draw(st.integers(0, 5)),
        helper_image=draw(st.one_of(st.none(), strict(IMAGES, evil))),
        trust_ca=draw(st.booleans()),
        ca_job_path=draw(st.one_of(st.none(), paths(evil))),
        kubernetes=draw(kubernetes(evil)),
    )


PEM = Path(data_dir("examples") / "example-site" / "certs" / "example-ca.crt").read_text("ascii")


@st.composite
def managers(draw: Any, name: str, runner_names: list[str], evil: bool) -> m.Manager:
    hostname = draw(st.one_of(st.none(), strict(["data01.example.org", "proc01", "10.0.0.5"], evil)))
    labels = draw(st.dictionaries(
        strict(["role", "example.com/zone" if hostname else "zone", "disk"], evil),
        strict(["data", "processing", "x86_64", "A_b.c-1"], evil),
        min_size=0 if hostname else 1, max_size=2))
    placement = draw(st.lists(
        strict(["node.role == worker", "node.labels.zone != b", "engine.labels.x == a$b"], evil),
        max_size=1))
    node = m.Node(name, hostname, tuple(sorted(labels.items())), tuple(placement))
    session = draw(st.one_of(st.none(), st.builds(
        m.SessionServer, strict(["[::]:8093", "0.0.0.0:8093"], evil),
        strict(["proc01.example.org:8093", "10.0.0.5:8093"], evil))))
    return m.Manager(
        name=name, node=node, image=draw(st.sampled_from(RUNNER_IMAGES)),
        runners=tuple(draw(runners(n, evil)) for n in runner_names),
        concurrent=draw(st.integers(1, 8)), session_server=session,
        trust_ca=draw(st.booleans()),
        stop_grace_period=draw(strict(["1h", "90s", "1h30m"], evil)),
    )


@st.composite
def fleets(draw: Any) -> m.Fleet:
    evil = draw(st.integers(0, 4)) == 0  # one fleet in five may hold invalid strict values
    node_names = draw(st.lists(names, min_size=1, max_size=2, unique=True))
    runner_names = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    mgrs = tuple(
        draw(managers(node, runner_names[i::len(node_names)], evil))
        for i, node in enumerate(node_names) if runner_names[i::len(node_names)]
    )
    certificates: tuple[m.Certificate, ...] = ()
    if draw(st.integers(0, 3)):  # most fleets have a CA (the dockerfile target needs one)
        hosts = draw(st.lists(strict(["gitlab.example.org", "harbor.example.org:5050",
                                      "*.example.org"], evil), max_size=3))
        certificates = (m.Certificate("example-ca", PEM, tuple(hosts), "2035-01-01"),)
    ca_image = draw(st.one_of(st.none(), st.just("harbor.example.org/ops/gitlab-runner-ca:v18.5.0")))
    images = (("runner", mgrs[0].image),) + ((("runner-ca", ca_image),) if ca_image else ())
    return m.Fleet(
        name=draw(names),
        gitlab_url=draw(strict(["https://gitlab.example.org", "https://gitlab.example.org:8443/git",
                                "http://10.0.0.1"], evil)),
        managers=mgrs,
        certificates=certificates,
        registry=draw(st.one_of(st.none(), strict(["harbor.example.org", "harbor.example.org:5050"], evil))),
        ca_host_path=draw(st.one_of(st.just("/etc/ssl/certs/ca-certificates.crt"), paths(evil))),
        ca_job_path=draw(st.one_of(st.just("/etc/ssl/certs/ca-certificates.crt"), paths(evil))),
        ca_image=ca_image,
        runner_image_family=image_family(mgrs[0].image),
        images=images,
    )

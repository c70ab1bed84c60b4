"""One chart release: the runner it registers and the names of its Kubernetes objects.

Shared by the values file (`__init__`) and the README (`notes`), so both say the same names.
"""

from __future__ import annotations

from stackgen.model import Fleet, Manager, Runner
from stackgen.records import dataclass
from stackgen.targets.helm.kubernetes import JobSecret, job_secrets


@dataclass(frozen=True)
class Release:
    """One chart release: a runner, the manager settings it runs with, and its object names."""

    fleet: Fleet
    manager: Manager
    runner: Runner

    @property
    def name(self) -> str:
        return self.runner.name

    @property
    def namespace(self) -> str:
        return self.runner.kubernetes.manager_namespace

    @property
    def job_namespace(self) -> str:
        return self.runner.kubernetes.namespace

    @property
    def token_secret(self) -> str:
        return f"{self.fleet.name}-{self.runner.name}-token"

    @property
    def certs_secret(self) -> str | None:
        """The manager's GitLab CA Secret (certsSecretName), when the manager trusts the CA."""
        if self.manager.trust_ca and self.fleet.certificates:
            return f"{self.fleet.name}-gitlab-certs"
        return None

    @property
    def certs_key(self) -> str:
        # the runner looks for certs/<gitlab host without port>.crt
        return f"{self.fleet.gitlab_host}.crt"

    @property
    def cache_secret(self) -> str | None:
        """The chart's cache Secret (runners.cache.secretName), when the cache has keys."""
        cache = self.runner.cache
        if cache is None or not cache.credentials:
            return None
        return f"{self.fleet.name}-{self.runner.name}-cache"

    @property
    def cache_keys(self) -> list[tuple[str, str]]:
        """(Secret key the chart reads, environment variable holding it): chart 0.86
        templates/_cache.tpl turns these keys into the runner's cache credentials."""
        cache = self.runner.cache
        if cache is None:
            return []
        names = {"AccessKey": "accesskey", "SecretKey": "secretkey", "AccessID": "gcs-access-id",
                 "PrivateKey": "gcs-private-key", "AccountName": "azure-account-name",
                 "AccountKey": "azure-account-key"}
        return [(names[key], env) for key, env in cache.credentials]

    @property
    def job_secrets(self) -> list[JobSecret]:
        return job_secrets(self.fleet, self.runner)

"""The model's newer sections from the merged tree: cache, escape hatches, host service, metrics.

Kept beside builder.py so each stays small; the builder calls these per runner and manager.
"""

from __future__ import annotations

from typing import Any, cast

from stackgen import model as m

# Credentials of each cache backend: input key -> (runner key, default environment variable).
CACHE_CREDENTIALS: dict[str, dict[str, tuple[str, str]]] = {
    "s3": {"access_key": ("AccessKey", "CACHE_S3_ACCESS_KEY"),
           "secret_key": ("SecretKey", "CACHE_S3_SECRET_KEY")},
    "gcs": {"access_id": ("AccessID", "CACHE_GCS_ACCESS_ID"),
            "private_key": ("PrivateKey", "CACHE_GCS_PRIVATE_KEY")},
    "azure": {"account_name": ("AccountName", "CACHE_AZURE_ACCOUNT_NAME"),
              "account_key": ("AccountKey", "CACHE_AZURE_ACCOUNT_KEY")},
}


def cache(spec: dict[str, Any] | None) -> m.Cache | None:
    if not spec:
        return None
    kind = spec["type"]
    backend = spec.get(kind) or {}
    auth = backend.get("authentication_type", "access-key")
    credentials = []
    # IAM (s3) and a credentials file (gcs) need no keys; the rest always do
    needs_keys = not (kind == "s3" and auth == "iam") and not (
        kind == "gcs" and backend.get("credentials_file"))
    if needs_keys:
        for key, (toml_key, default_env) in CACHE_CREDENTIALS[kind].items():
            credentials.append((toml_key, (backend.get(key) or {}).get("env") or default_env))
    return m.Cache(
        type=kind,
        path=spec.get("path", ""),
        shared=bool(spec.get("shared", False)),
        bucket=backend.get("bucket_name") or backend.get("container_name") or "",
        server_address=backend.get("server_address", ""),
        bucket_location=backend.get("bucket_location", ""),
        insecure=bool(backend.get("insecure", False)),
        authentication_type=auth,
        credentials_file=backend.get("credentials_file", ""),
        storage_domain=backend.get("storage_domain", ""),
        credentials=tuple(credentials),
    )


def config_table(data: Any) -> m.Table:
    """An escape-hatch section (`runner_config`, `manager_config`) as a hashable table."""
    return cast(m.Table, m.freeze(data or {}))


def service(spec: dict[str, Any]) -> m.HostService:
    return m.HostService(
        command=tuple(spec["command"]),
        user=spec["user"],
        job_user=spec["job_user"],
        working_directory=spec["working_directory"],
        config_path=spec["config_path"],
        environment_file=spec["environment_file"],
        stop_signal=spec["stop_signal"],
        restart=spec["restart"],
        restart_sec=spec["restart_sec"],
    )


def metrics(spec: dict[str, Any]) -> str | None:
    return spec["listen_address"] if spec.get("enabled") else None

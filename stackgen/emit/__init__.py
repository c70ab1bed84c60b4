"""Serialisation helpers shared by the targets: TOML for the runner, YAML for the rest."""

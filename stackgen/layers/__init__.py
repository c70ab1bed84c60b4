"""Reading and checking one input layer: YAML with positions, the schema, profiles, the
site file and `--set`, certificates."""

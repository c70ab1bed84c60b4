"""The engine tier: generated files deployed in a real Docker Engine (make test-engine)."""

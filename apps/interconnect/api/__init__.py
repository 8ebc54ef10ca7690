"""Read-only REST API of the interconnect app: sync runs and what they changed or rejected (never keys or tokens)."""

"""Read-only REST API of the interconnect app: sync runs and the records they rejected (never keys or tokens)."""

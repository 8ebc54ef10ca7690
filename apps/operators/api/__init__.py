"""Read-only REST API of the operators app."""

"""Read-only REST API of settlement: reconciliation runs and disputes."""

"""Read-only REST API of the directory: stations, equipment, connectors, their status and statistics."""

"""Read-only REST API of pricing: policy versions with their periods."""

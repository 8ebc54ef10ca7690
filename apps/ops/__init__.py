"""Operations: /healthz and /metrics for the team that keeps the portal running, restricted to its network."""

"""Read-only REST API of orders: orders with their details, and what the checks found."""

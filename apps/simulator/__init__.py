"""Operator-platform simulator: a T/CEC 102 CPO platform (own state, own process) for demos, tests and load."""

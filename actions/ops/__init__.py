"""Operator commands of the actions environment (run with .venv-actions/bin/python -m actions.ops.<name>)."""

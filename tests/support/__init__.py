"""Test support: provisioning helpers and probe routes."""

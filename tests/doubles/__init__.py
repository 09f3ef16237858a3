"""Test doubles of outside services, served over real HTTP on loopback."""

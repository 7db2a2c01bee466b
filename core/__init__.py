"""Pieces every part of the service shares: the clock, the error classes, the configuration."""

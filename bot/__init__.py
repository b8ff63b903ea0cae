"""Adoptbot: the change-management loop for everyday AI use, inside Slack."""

__version__ = "0.1.0"

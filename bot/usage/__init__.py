"""Measured adoption: the AI tools' own usage reports, imported as per-person, per-week facts."""

"""Example subscriber of ``ingestion-events``."""

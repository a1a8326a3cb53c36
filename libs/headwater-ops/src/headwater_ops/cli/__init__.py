"""The ``headwater`` command line (typer + rich)."""

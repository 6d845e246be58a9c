"""Command-line interface (typer + rich), a thin layer over the service functions."""

"""Thin Typer adapters, one module per command: parse, call the core, render through console.

Nothing imports this package except ``accunode_cli.main``.
"""

"""Command-line commands, one module per concern, registered on ``api.cli.app``."""

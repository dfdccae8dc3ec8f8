"""The production shape: configuration, compose, observability, backups, and the processes running."""

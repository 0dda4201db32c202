"""The command-line shell: one module per command, no modelling logic."""

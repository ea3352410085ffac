"""The training loop every front end uses (the CLI, the tests, the app's worker), and its multi-process (torchrun) helpers."""

"""One module per `python -m fer` sub-command, each with `register(subparsers)`."""

"""The ``archiver`` command line: one module per subcommand, gathered in ``main``."""

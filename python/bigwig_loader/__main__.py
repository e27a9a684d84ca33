"""``python -m bigwig_loader``: the same command line as ``bigwig-loader``."""

from bigwig_loader.cli import console_main

console_main()

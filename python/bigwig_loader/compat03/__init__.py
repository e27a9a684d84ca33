"""bigwig-loader 0.3's compatibility surface, in one place.

The modules 0.3 code imports by name and that the rest of the library does not build on:
``path`` (0.3's file and key helpers), ``util`` (``sort_intervals``, ``chromosome_sort``),
``config`` (where the example and demo data live), ``streamed_dataset`` (0.3's import path of
``StreamedDataloader``) and ``download_example_data``. Each old import path
(``bigwig_loader.path``, ``bigwig_loader.util``, ``bigwig_loader.config``, ...) is a thin module
that hands over the module here under its old name (the same module object, so that assigning
``config.bigwig_dir`` or patching a function reaches it); tests/python/test_compat03.py checks
every one.
"""

import importlib
import sys


def hand_over(old_name: str, run_as_main: bool = False) -> None:
    """Makes the old module ``old_name`` (``bigwig_loader.X``) the module
    ``bigwig_loader.compat03.X`` itself in ``sys.modules``; with ``run_as_main``
    (``python -m bigwig_loader.X``) runs that module's ``main()`` instead."""
    module = importlib.import_module(f"{__name__}.{old_name.rpartition('.')[2]}")
    if run_as_main:
        module.main()
    else:
        sys.modules[old_name] = module

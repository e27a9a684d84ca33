"""0.3's import path ``bigwig_loader.config``: the module ``bigwig_loader.compat03.config``
itself, under its old name (see :func:`bigwig_loader.compat03.hand_over`)."""

from bigwig_loader.compat03 import hand_over

hand_over(__spec__.name, run_as_main=__name__ == "__main__")

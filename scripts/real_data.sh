# Sourced by scripts/test.sh and scripts/sanitize.sh: exports BWL_REAL_DATA, the folder of real
# files the tests read, unless it is set already. They live in the project's shared/ beside the
# checkout; a clone made elsewhere (git clone . /tmp/x) finds them beside the checkout it was
# cloned from. A clone with neither gets the test corpus instead: stand-ins for every file the
# tests name, written by pyBigWig and pybigtools (tests/python/corpus.py) into build/test-corpus
# once (again only when corpus.py changes its version), so that the C++ tests find them too.
if [ -z "${BWL_REAL_DATA:-}" ]; then
  real="$PWD/../shared/data/real"
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ ! -d "$real" ] && [ -n "$origin" ] && [ -d "$origin/../shared/data/real" ]; then
    real="$(cd "$origin/../shared/data/real" && pwd)"
  fi
  if [ ! -d "$real" ]; then
    real="$PWD/build/test-corpus"
    corpus_python=python3
    [ -x .venv/bin/python ] && corpus_python=.venv/bin/python
    echo "real data: no shared real files beside the checkout; the tests read the stand-ins in $real"
    "$corpus_python" tests/python/corpus.py "$real" >/dev/null
  fi
  export BWL_REAL_DATA="$real"
fi

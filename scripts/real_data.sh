# Sourced by scripts/test.sh and scripts/sanitize.sh: exports BWL_REAL_DATA, the folder of real
# bigWig files the tests read, unless it is set already. They live in the project's shared/ beside
# the checkout; a clone made elsewhere (git clone . /tmp/x) finds them beside the checkout it was
# cloned from.
if [ -z "${BWL_REAL_DATA:-}" ]; then
  real="$PWD/../shared/data/real"
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ ! -d "$real" ] && [ -n "$origin" ] && [ -d "$origin/../shared/data/real" ]; then
    real="$(cd "$origin/../shared/data/real" && pwd)"
  fi
  export BWL_REAL_DATA="$real"
fi

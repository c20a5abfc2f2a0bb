#!/usr/bin/env bash
# The Python package (python/) installed with pip into a virtual
# environment, over libnst installed into a staging prefix, and its tests
# (python/tests, pytest). Under the sanitizers libnst.so needs the
# sanitizer's runtime preloaded into python3, so there it is skipped.
# usage: python.sh BUILD_DIR SOURCE_DIR SHARED_DIR NST_BINARY [sanitize]
build=$(realpath "$1") src=$(realpath "$2") shared=$(realpath "$3") binary=$(realpath "$4")
[ "${5:-}" = sanitize ] && { echo "skipped: libnst.so is built with the sanitizers"; exit 77; }
. "$(dirname "$0")/lib.sh"
need_files "$shared/images/content/tubingen.jpg" "$shared/models/darknet-tiny/model.json"
/usr/bin/python3 -c "import numpy, pytest" 2>/dev/null || { echo "python3-numpy and python3-pytest are missing"; echo "0 passed, 1 failed"; exit 1; }
stage=$tmp/stage
cmake --install "$build" --prefix "$stage" >"$tmp/install.log" 2>&1 || { bad "cmake --install"; tail "$tmp/install.log"; finish; exit; }
lib=$(dirname "$(find "$stage" -name libnst.so | head -1)")
# numpy and pytest from the system; pip offline
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv" && ok || bad "python3 -m venv"
# from a copy: pip's setuptools writes build/ and *.egg-info beside setup.py
cp -r "$src/python" "$tmp/python"
"$tmp/venv/bin/pip" install --no-index --no-build-isolation -q "$tmp/python" >"$tmp/pip.log" 2>&1 && ok ||
    { bad "pip install ./python"; tail -20 "$tmp/pip.log"; }
cd "$tmp" || exit 1 # import the installed package, not the source tree's
LD_LIBRARY_PATH=$lib NST_INCLUDE=$stage/include NST_SHARED=$shared NST_BINARY=$binary \
    NST_MODELS=$shared/models:$shared/models/fast \
    PYTHONDONTWRITEBYTECODE=1 "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider "$tmp/python/tests" >"$tmp/pytest.log" 2>&1 && ok ||
    bad "pytest python/tests"
tail -40 "$tmp/pytest.log"
finish

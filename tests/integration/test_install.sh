#!/usr/bin/env bash
# test_install.sh: README's claim that after `make install` a program builds against the
# installed tree with `pkg-config --cflags --libs tf`. Builds its own tf (no sanitizer,
# -O0, libtf and the tf command only) in <build>/install-test/build, kept between runs,
# installs it under a plain prefix (lib/), under Debian's multiarch libdir
# (lib/x86_64-linux-gnu) and under a prefix given only at install time, then moves one
# installed tree; each time examples/hello is built with its own Makefile (pkg-config,
# public headers only) and both the user's runner and `tf run --plugin` run hello.feature.
# Last, the build tree's tf-uninstalled.pc. usage: test_install.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
src=$1
work=$2/install-test
build=$work/build
rm -rf "$work/prefixes" "$work/hello"
mkdir -p "$work/prefixes" "$work/hello"
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR LD_LIBRARY_PATH CFLAGS LDFLAGS LDLIBS
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# As tests/support/skip.h: a missing tool that install-deps.sh installs is a skip (77),
# a failure under CI=true.
for tool in cmake make cc pkg-config ldd; do
  path=$(command -v "$tool" || true)
  if [ ! -f "$path" ] || [ ! -x "$path" ]; then
    case "${CI:-}" in
      true|TRUE|True|1) echo "FAILED: $tool is not on PATH (CI=true: scripts/install-deps.sh installs it)"; exit 1 ;;
      *) echo "SKIPPED: $tool is not on PATH (scripts/install-deps.sh installs it)"; exit 77 ;;
    esac
  fi
done

configure() { # LIBDIR PREFIX
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-O0 \
    -DTF_TESTS=OFF -DTF_BENCH=OFF -DTF_SANITIZE= \
    -DCMAKE_INSTALL_LIBDIR="$1" -DCMAKE_INSTALL_PREFIX="$2" >"$work/configure.log" \
    || { cat "$work/configure.log"; exit 1; }
}

# Builds examples/hello in a fresh dir against PKG_CONFIG_PATH=$1 and runs it; $2 is the
# directory libtf.so must be loaded from, $3 the tf command.
hello() { # PCDIR LIBDIR TF NAME
  local pcdir=$1 libdir=$2 tf=$3 dir=$work/hello/$4 out
  mkdir -p "$dir"
  echo "== $4: PKG_CONFIG_PATH=$pcdir: $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs tf)"
  if ! (cd "$dir" && PKG_CONFIG_PATH=$pcdir make -s -f "$src/examples/hello/Makefile" \
          VPATH="$src/examples/hello" >build.log 2>&1); then
    cat "$dir/build.log"; fail "$4: examples/hello does not build"; return
  fi
  local loaded
  loaded=$(LD_LIBRARY_PATH=$libdir ldd "$dir/hello-runner" | awk '/libtf\.so/ {print $3}')
  [ "$(readlink -f "$loaded")" = "$(readlink -f "$libdir/libtf.so.0")" ] \
    || fail "$4: hello-runner loads libtf from '$loaded', not $libdir"
  # the example's second scenario fails on purpose: exit 1, one passed and one failed
  for run in "$dir/hello-runner" "$tf run --plugin $dir/libhello_steps.so"; do
    out=$(cd "$src/examples/hello" && LD_LIBRARY_PATH=$libdir $run hello.feature 2>&1) && rc=0 || rc=$?
    if [ "$rc" != 1 ] || ! grep -q '^2 scenarios (1 failed, 1 passed)' <<<"$out"; then
      echo "$out" | tail -20; fail "$4: '$run hello.feature' exited $rc"
    fi
  done
}

check_prefix() { # PREFIX LIBDIR NAME
  local pcdir=$1/$2/pkgconfig got
  [ -f "$pcdir/tf.pc" ] || { fail "$3: no $pcdir/tf.pc"; return; }
  got=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir tf)
  [ "$(readlink -f "$got")" = "$(readlink -f "$1/$2")" ] || fail "$3: tf.pc says libdir=$got, not $1/$2"
  got=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=includedir tf)
  [ -f "$got/tf/tf.h" ] || fail "$3: tf.pc says includedir=$got, which has no tf/tf.h"
  hello "$pcdir" "$1/$2" "$1/bin/tf" "$3"
}

multiarch=lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
[ "$multiarch" != lib/ ] || multiarch=lib/x86_64-linux-gnu

configure lib "$work/prefixes/plain"
cmake --build "$build" -j 2 --target tf tf_shared tf_cli >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
cmake --install "$build" >"$work/install.log" || exit 1
check_prefix "$work/prefixes/plain" lib plain

cmake --install "$build" --prefix "$work/prefixes/at-install" >>"$work/install.log" || exit 1
check_prefix "$work/prefixes/at-install" lib at-install

mv "$work/prefixes/plain" "$work/prefixes/moved" # the installed tree is relocatable
check_prefix "$work/prefixes/moved" lib moved

configure "$multiarch" "$work/prefixes/multiarch"
cmake --install "$build" >>"$work/install.log" || exit 1
check_prefix "$work/prefixes/multiarch" "$multiarch" multiarch

# The build tree: tf-uninstalled.pc names its own libtf and the source headers.
hello "$build" "$build/tf" "$build/bin/tf" uninstalled

if [ "$failures" -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi
rm -rf "$work/prefixes" "$work/hello"
echo "install: plain, at-install, moved, $multiarch and uninstalled: all built and ran hello"

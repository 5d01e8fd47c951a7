#!/usr/bin/env bash
# test_install.sh: README's claim that after `make install` a program builds against the
# installed tree with `pkg-config --cflags --libs tf`. Builds its own tf (no sanitizer,
# -O0, libtf and the tf command only) in <build>/install-test/build, kept between runs,
# installs it under a plain prefix (lib/), under Debian's multiarch libdir
# (lib/x86_64-linux-gnu) and under a prefix given only at install time, then moves one
# installed tree; each time examples/hello is built with its own Makefile (pkg-config,
# public headers only) and both the user's runner and `tf run --plugin` run hello.feature,
# and the runner loads the plug-in with --plugin too. libtf.so's SONAME is libtf.so.<the
# ABI version of tf/version.h>; the installed tf finds its bundled plug-ins in
# <libdir>/tf/plugins (a dry run of the bundled scenarios has every step defined).
# In the plain prefix examples/httpstatus is built the same way and run against the real
# HTTP servers its cluster spec starts (python3 -m http.server on free loopback ports):
# its feature passes, its up/down events are journaled, and an expectation that cannot
# hold prints what README promises. Last, the build tree's tf-uninstalled.pc.
# usage: test_install.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
src=$1
work=$2/install-test
build=$work/build
rm -rf "$work/prefixes" "$work/hello" "$work/httpstatus"
mkdir -p "$work/prefixes" "$work/hello" "$work/httpstatus"
unset PKG_CONFIG_PATH PKG_CONFIG_LIBDIR LD_LIBRARY_PATH CFLAGS LDFLAGS LDLIBS
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
abi=$(sed -n 's/^#define TF_ABI_VERSION \([0-9]*\)$/\1/p' "$src/tf/include/tf/version.h")
[ -n "$abi" ] || { echo "no TF_ABI_VERSION in $src/tf/include/tf/version.h"; exit 1; }

# As tests/support/skip.h: a missing tool that install-deps.sh installs is a skip (77),
# a failure under CI=true.
for tool in cmake make cc pkg-config ldd readelf python3; do
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
  [ "$(readlink -f "$loaded")" = "$(readlink -f "$libdir/libtf.so.$abi")" ] \
    || fail "$4: hello-runner loads libtf from '$loaded', not $libdir/libtf.so.$abi"
  readelf -d "$libdir/libtf.so" | grep -q "SONAME.*\[libtf\.so\.$abi\]" \
    || fail "$4: $libdir/libtf.so's SONAME is not libtf.so.$abi"
  # the example's second scenario fails on purpose: exit 1, one passed and one failed
  for run in "$dir/hello-runner" "$tf run --plugin $dir/libhello_steps.so"; do
    out=$(cd "$src/examples/hello" && LD_LIBRARY_PATH=$libdir $run hello.feature 2>&1) && rc=0 || rc=$?
    if [ "$rc" != 1 ] || ! grep -q '^2 scenarios (1 failed, 1 passed)' <<<"$out"; then
      echo "$out" | tail -20; fail "$4: '$run hello.feature' exited $rc"
    fi
  done
  # the user's runner (linked with libtf.so) loads a plug-in like tf run: the same steps
  # registered twice make every step ambiguous
  out=$(cd "$src/examples/hello" && LD_LIBRARY_PATH=$libdir "$dir/hello-runner" --plugin \
          "$dir/libhello_steps.so" hello.feature 2>&1) && rc=0 || rc=$?
  if [ "$rc" != 1 ] || ! grep -q 'Multiple step definitions match' <<<"$out"; then
    echo "$out" | tail -20; fail "$4: hello-runner --plugin did not load the plug-in (exit $rc)"
  fi
}

# Builds examples/httpstatus against PKG_CONFIG_PATH=$1 and runs it with the tf command $2.
httpstatus() { # PCDIR TF
  local pcdir=$1 tf=$2 dir=$work/httpstatus ex=$src/examples/httpstatus out rc
  echo "== httpstatus: built with PKG_CONFIG_PATH=$pcdir, run by $tf"
  if ! (cd "$dir" && PKG_CONFIG_PATH=$pcdir make -s -f "$ex/Makefile" VPATH="$ex" >build.log 2>&1); then
    cat "$dir/build.log"; fail "httpstatus: examples/httpstatus does not build"; return
  fi
  # README: the plug-in is not linked against libtf; tf run provides it
  ! readelf -d "$dir/libhttpstatus_steps.so" | grep -q 'NEEDED.*libtf' \
    || fail "httpstatus: the plug-in links libtf"
  out=$(cd "$ex" && "$tf" run --no-color --store "$dir/run.db" --plugin "$dir/libhttpstatus_steps.so" \
          web.feature 2>&1) && rc=0 || rc=$?
  if [ "$rc" != 0 ] || ! grep -q '^2 scenarios (2 passed)' <<<"$out"; then
    echo "$out" | tail -30; fail "httpstatus: web.feature exited $rc"
  fi
  # the observer's events, journaled: n2 went down when killed and came back up
  out=$("$tf" history export --store "$dir/run.db" 2>&1) || fail "httpstatus: history export: $out"
  local killed='"scenario":"A killed node is seen down, and back once it is started again"'
  grep "$killed" <<<"$out" | grep '"stream":"httpstatus"' | grep -q '"error":"n2: GET http://127.0.0.1:[0-9]*/: connection refused","node":"n2","status":0,"type":"down"' \
    || { echo "$out"; fail "httpstatus: no journaled down event of n2"; }
  grep "$killed" <<<"$out" | grep '"stream":"httpstatus"' | grep '"type":"down"' -A100 | grep -q '"node":"n2","status":200,"type":"up"' \
    || { echo "$out"; fail "httpstatus: no journaled up event of n2 after its down event"; }
  # an expectation that cannot hold: what was awaited, the last snapshot, the last error
  # naming the node once
  printf '%s\n' 'Feature: Too impatient' '  Scenario: A killed node cannot answer' \
    '    Given a 3-node web cluster is running' '    When web node n2 is killed' \
    '    Then 3 web nodes answer within 0.3 seconds' >"$dir/impatient.feature"
  out=$(cd "$dir" && TF_CLUSTERS=$ex/clusters "$tf" run --no-color --plugin "$dir/libhttpstatus_steps.so" \
          impatient.feature 2>&1) && rc=0 || rc=$?
  local want
  for want in 'timed out after 0.3 s waiting for: 3 web nodes answer (2/3 up: n1 up, n2 down, n3 up)' \
              'last snapshot (httpstatus, cycle ' '"name":"n2","state":"stopped","status":0,"up":false' \
              ' s ago (20' 'source n2: GET http://127.0.0.1:'; do
    grep -qF "$want" <<<"$out" || { echo "$out"; fail "httpstatus: the failure does not say '$want'"; }
  done
  ! grep -q 'n2: n2:' <<<"$out" || fail "httpstatus: the failure names n2 twice"
  [ "$rc" = 1 ] || fail "httpstatus: impatient.feature exited $rc, not 1"
}

check_prefix() { # PREFIX LIBDIR NAME
  local pcdir=$1/$2/pkgconfig got
  [ -f "$pcdir/tf.pc" ] || { fail "$3: no $pcdir/tf.pc"; return; }
  got=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=libdir tf)
  [ "$(readlink -f "$got")" = "$(readlink -f "$1/$2")" ] || fail "$3: tf.pc says libdir=$got, not $1/$2"
  got=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=includedir tf)
  [ -f "$got/tf/tf.h" ] || fail "$3: tf.pc says includedir=$got, which has no tf/tf.h"
  hello "$pcdir" "$1/$2" "$1/bin/tf" "$3"
  local p out rc
  for p in raftkv chain wallet; do
    [ -f "$1/$2/tf/plugins/$p.so" ] || fail "$3: no bundled plug-in $1/$2/tf/plugins/$p.so"
  done
  out=$("$1/bin/tf" run --dry-run --no-color --format summary "$src/scenarios" 2>&1) && rc=0 || rc=$?
  if [ "$rc" != 0 ] || grep -q undefined <<<"$out"; then
    echo "$out" | tail -20; fail "$3: the installed tf does not find its bundled plug-ins (exit $rc)"
  fi
}

multiarch=lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
[ "$multiarch" != lib/ ] || multiarch=lib/x86_64-linux-gnu

configure lib "$work/prefixes/plain"
cmake --build "$build" -j 2 --target tf tf_shared tf_cli tf_plugins >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
cmake --install "$build" >"$work/install.log" || exit 1
check_prefix "$work/prefixes/plain" lib plain
httpstatus "$work/prefixes/plain/lib/pkgconfig" "$work/prefixes/plain/bin/tf"

cmake --install "$build" --prefix "$work/prefixes/at-install" >>"$work/install.log" || exit 1
check_prefix "$work/prefixes/at-install" lib at-install

mv "$work/prefixes/plain" "$work/prefixes/moved" # the installed tree is relocatable
check_prefix "$work/prefixes/moved" lib moved

configure "$multiarch" "$work/prefixes/multiarch"
# the plug-ins' dir (and where tf looks for it) follows the libdir: rebuilt
cmake --build "$build" -j 2 --target tf tf_shared tf_cli tf_plugins >>"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; exit 1; }
cmake --install "$build" >>"$work/install.log" || exit 1
check_prefix "$work/prefixes/multiarch" "$multiarch" multiarch

# The build tree: tf-uninstalled.pc names its own libtf and the source headers.
hello "$build" "$build/tf" "$build/bin/tf" uninstalled

if [ "$failures" -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi
rm -rf "$work/prefixes" "$work/hello" "$work/httpstatus"
echo "install: plain, at-install, moved, $multiarch and uninstalled: all built and ran hello; httpstatus built and ran in plain"

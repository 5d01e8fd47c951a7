#!/usr/bin/env bash
# test_exports.sh: libtf exports its documented API and nothing else. The functions the
# public headers declare are found by the compiler (cc -aux-info over every
# tf/include/tf/*.h), not by the TF_API marks the build uses, and compared with:
#   - libtf.so's dynamic symbols (nm -D --defined-only): the same set, no more (an internal
#     function made visible) and no less (a public declaration without TF_API);
#   - the plug-in hosts' (the tf command, the example runner on tf_run_main): the same set
#     again (their plug-ins' API), plus nothing but the C library's copy-relocated data and
#     the sanitizer runtimes' hooks;
#   - each bundled plug-in: it exports tf_plugin_init and tf_plugin_abi only, and every tf_
#     function it calls is one the command exports.
# Prints the counts. usage: test_exports.sh SOURCE_DIR BINARY_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
bin=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tf-test-exports-XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP  # a killed run (ctest's timeout) still removes it
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for tool in cc nm pkg-config; do # as tests/support/skip.h: 77, a failure under CI=true
  path=$(command -v "$tool" || true)
  if [ ! -x "$path" ]; then
    case "${CI:-}" in
      true|TRUE|True|1) echo "FAILED: $tool is not on PATH (CI=true: scripts/install-deps.sh installs it)"; exit 1 ;;
      *) echo "SKIPPED: $tool is not on PATH (scripts/install-deps.sh installs it)"; exit 77 ;;
    esac
  fi
done

# What the public headers declare: every function prototype the compiler saw in them.
for h in "$src"/tf/include/tf/*.h; do echo "#include \"$h\""; done >"$work/all.c"
# shellcheck disable=SC2046
cc -std=gnu11 -fsyntax-only -aux-info "$work/aux.txt" -I"$src/tf/include" \
  $(pkg-config --cflags glib-2.0 jansson) "$work/all.c"
grep -F "/tf/include/tf/" "$work/aux.txt" | grep -v ' static ' \
  | sed -E 's/^[^(]*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*$/\1/' | sort -u >"$work/declared"
n_declared=$(wc -l <"$work/declared")
[ "$n_declared" -gt 100 ] || fail "only $n_declared functions found in the public headers"

# The dynamic symbols a file defines, without version suffixes, but the linker's own and
# the sanitizer runtimes' interface (sanitized builds).
exports() {
  nm -D --defined-only "$1" | awk '{print $3}' | sed 's/@.*$//' \
    | grep -Ev '^__(asan|lsan|ubsan|tsan|sanitizer)_|^__odr_asan[.]|^_(init|fini|edata|end)$|^__bss_start$' \
    | sort -u
}

lib=$bin/tf/libtf.so
[ -f "$lib" ] || { echo "FAIL: $lib is not built"; exit 1; }
exports "$lib" >"$work/lib"
comm -23 "$work/lib" "$work/declared" >"$work/undeclared"
comm -13 "$work/lib" "$work/declared" >"$work/unexported"
[ -s "$work/undeclared" ] && fail "libtf.so exports $(wc -l <"$work/undeclared") functions no public header declares: $(head -20 "$work/undeclared" | tr '\n' ' ')"
[ -s "$work/unexported" ] && fail "libtf.so lacks $(wc -l <"$work/unexported") functions the public headers declare (TF_API missing?): $(head -20 "$work/unexported" | tr '\n' ' ')"

# The plug-in hosts (the command, the example's runner on tf_run_main): the API, plus the
# C library's data copied into them (stdout, stderr: nm lists them with their GLIBC
# version) and the sanitizer runtimes' interface in sanitized builds.
# Other libraries' data can be copied into a host too (a copy relocation: g_ascii_table
# when the host's own code uses g_ascii_isdigit): a data symbol that a library the host
# links defines is that library's, not an export of tf's.
for host in "$bin/bin/tf" "$bin/examples/hello_runner"; do
  name=$(basename "$host")
  [ -f "$host" ] || { fail "$host is not built"; continue; }
  for dep in $(ldd "$host" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
    nm -D --defined-only "$dep" 2>/dev/null | awk '$2 ~ /^[BDV]$/ {print $3}' | sed 's/@.*$//'
  done | sort -u >"$work/lib_data"
  nm -D --defined-only "$host" | awk '$3 !~ /@GLIBC/ {print $3}' | sed 's/@.*$//' \
    | grep -Ev '^__(asan|lsan|ubsan|tsan|sanitizer)_|^__odr_asan[.]|^_(init|fini|edata|end)$|^__bss_start$' \
    | sort -u | comm -23 - "$work/lib_data" >"$work/host"
  comm -23 "$work/host" "$work/declared" >"$work/host_undeclared"
  comm -13 "$work/host" "$work/declared" >"$work/host_unexported"
  [ -s "$work/host_undeclared" ] && fail "$name exports $(wc -l <"$work/host_undeclared") symbols no public header declares: $(head -20 "$work/host_undeclared" | tr '\n' ' ')"
  [ -s "$work/host_unexported" ] && fail "$name does not export $(wc -l <"$work/host_unexported") API functions its plug-ins may call: $(head -20 "$work/host_unexported" | tr '\n' ' ')"
  [ "$name" = tf ] && cp "$work/host" "$work/cmd"
done

# The bundled plug-ins: their entry point and ABI record out, tf's API in.
n_plugins=0
for p in "$bin"/lib*/tf/plugins/*.so "$bin"/lib/*/tf/plugins/*.so; do
  [ -f "$p" ] || continue
  n_plugins=$((n_plugins + 1))
  got=$(exports "$p" | tr '\n' ' ')
  [ "$got" = "tf_plugin_abi tf_plugin_init " ] || fail "$(basename "$p") exports '$got', not its entry point and ABI record alone"
  nm -u "$p" | awk '{print $2}' | sed 's/@.*$//' | grep '^tf_' | sort -u >"$work/needs"
  comm -23 "$work/needs" "$work/cmd" >"$work/missing"
  [ -s "$work/missing" ] && fail "$(basename "$p") calls tf functions the command does not export: $(tr '\n' ' ' <"$work/missing")"
done
[ "$n_plugins" -ge 3 ] || fail "found $n_plugins bundled plug-ins under $bin/lib*/tf/plugins, not 3"

echo "public headers declare $n_declared functions; libtf.so exports $(wc -l <"$work/lib"), tf $(wc -l <"$work/cmd"); $n_plugins bundled plug-ins export their entry point and ABI record only"
if [ "$failures" -ne 0 ]; then
  echo "$failures failed"
  exit 1
fi

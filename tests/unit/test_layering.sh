#!/usr/bin/env bash
# test_layering.sh: tf's layers, and a check that every #include keeps to them. A layer
# may include its own files, system headers and the layers listed after it below:
#
#   util      tf/util, error.h version.h api.h
#                                         (none: the error domain, locks, versions, TF_API)
#   net       tf/net, http.h              util
#   durable   tf/durable, durable.h       util
#   gherkin   tf/gherkin, gherkin.h       util
#   lin       tf/lin, ophistory.h lincheck.h               util
#   observe   tf/observe, source.h observer.h snapshot.h runtime.h handle.h
#                                         util net durable
#   cluster   tf/cluster, cluster.h       util net observe
#   runner    tf/runner, steps.h runner.h expression.h tags.h world_store.h plugin.h
#                                         util net durable gherkin lin observe cluster
#   cli       tf/cli, tf.h (the umbrella) every layer and the bundled observers
#   observers observers/*/                util net durable lin observe (plug-ins below the
#                                         runner: they register no steps, so no tf.h)
#
# So the store and the HTTP client are leaves; the store knows no runtime, observer or
# world (the runner's world_store.h reaches it from above). tf/CMakeLists.txt also
# compiles util, net and durable with only their allowed headers on the include path and
# links them alone with every symbol resolved (tf_leaves_linked).
# A new public header or tf/ folder must be given a layer here, or this test fails.
# usage: test_layering.sh SOURCE_DIR [BINARY_DIR]
set -uo pipefail

declare -A ALLOWED=(
  [util]=""
  [net]="util"
  [durable]="util"
  [gherkin]="util"
  [lin]="util"
  [observe]="util net durable"
  [cluster]="util net observe"
  [runner]="util net durable gherkin lin observe cluster"
  [cli]="util net durable gherkin lin observe cluster runner observers"
  [observers]="util net durable lin observe"
)
declare -A HEADER_LAYER=(
  [error.h]=util [version.h]=util [api.h]=util
  [http.h]=net
  [durable.h]=durable
  [gherkin.h]=gherkin
  [ophistory.h]=lin [lincheck.h]=lin
  [source.h]=observe [observer.h]=observe [snapshot.h]=observe [runtime.h]=observe
  [handle.h]=observe
  [cluster.h]=cluster
  [steps.h]=runner [runner.h]=runner [expression.h]=runner [tags.h]=runner
  [world_store.h]=runner [plugin.h]=runner
  [tf.h]=cli
)

# The layer of a file (a path relative to the root), or "" when it is in none.
layer_of_path() {
  case $1 in
    tf/include/tf/*) echo "${HEADER_LAYER[${1##*/}]:-?}" ;;
    tf/*/*) local d=${1#tf/}; d=${d%%/*}; [ -n "${ALLOWED[$d]+x}" ] && echo "$d" || echo "?" ;;
    observers/*/*) echo observers ;;
    *) echo "" ;;
  esac
}

# check ROOT: prints one line per forbidden include (or file in no layer).
check() {
  local root=$1 file layer line inc target tl
  while IFS= read -r file; do
    layer=$(layer_of_path "$file")
    if [ "$layer" = "?" ]; then
      echo "$file: in no layer: give its folder or public header one in test_layering.sh"
      continue
    fi
    while IFS= read -r line; do
      [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*[\<\"]([^\>\"]+)[\>\"] ]] \
        || continue # a computed include: not ours to judge
      inc=${BASH_REMATCH[1]}
      target=""
      if [[ $inc == tf/* ]]; then
        target=tf/include/$inc
        [ -e "$root/$target" ] || target="" # <tf/...> that is not a public header
      fi
      if [ -z "$target" ]; then # a project file: beside the includer, or from tf/ or observers/
        for cand in "${file%/*}/$inc" "tf/$inc" "observers/$inc"; do
          [ -e "$root/$cand" ] || continue
          target=$cand
          [[ $cand == *..* ]] && target=$(realpath -m --relative-to="$root" "$root/$cand")
          break
        done
      fi
      [ -z "$target" ] && continue # a system or third-party header
      tl=$(layer_of_path "$target")
      [ -z "$tl" ] || [ "$tl" = "$layer" ] && continue
      if [ "$tl" = "?" ] || [[ " ${ALLOWED[$layer]} " != *" $tl "* ]]; then
        echo "$file: includes $inc ($target, layer ${tl/\?/none}): $layer may include only: ${ALLOWED[$layer]:-nothing}"
      fi
    done < <(grep -E '^[[:space:]]*#[[:space:]]*include' "$root/$file")
  done < <(cd "$root" && find tf observers -type f \( -name '*.c' -o -name '*.h' \) | sort)
}

src=${1:?usage: test_layering.sh SOURCE_DIR [BINARY_DIR]}
failures=0

# The checker must be able to fail: a tree with one forbidden include of each kind.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tf-layering.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/tf/include/tf" "$tmp/tf/durable" "$tmp/tf/net" "$tmp/tf/observe" \
         "$tmp/tf/runner" "$tmp/tf/util" "$tmp/observers/x" "$tmp/tf/newdir"
for h in "${!HEADER_LAYER[@]}"; do : >"$tmp/tf/include/tf/$h"; done
: >"$tmp/tf/observe/observe_priv.h"; : >"$tmp/tf/runner/runner_priv.h"; : >"$tmp/tf/util/sync.h"
printf '#include "tf/steps.h"\n#include "util/sync.h"\n#include <glib.h>\n' >"$tmp/tf/durable/a.c"
printf '#include "../observe/observe_priv.h"\n#include "tf/error.h"\n' >"$tmp/tf/net/b.c"
printf '#include <tf/tf.h>\n#include <tf/observer.h>\n' >"$tmp/observers/x/c.h"
printf '#include "runner/runner_priv.h"\n' >"$tmp/tf/observe/d.c"
printf '#include "tf/runtime.h"\n' >"$tmp/tf/include/tf/durable.h"
: >"$tmp/tf/newdir/e.c"
out=$(check "$tmp"); n=$(grep -c . <<<"$out")
want=("tf/durable/a.c: includes tf/steps.h" "tf/net/b.c: includes ../observe/observe_priv.h"
      "observers/x/c.h: includes tf/tf.h" "tf/observe/d.c: includes runner/runner_priv.h"
      "tf/include/tf/durable.h: includes tf/runtime.h" "tf/newdir/e.c: in no layer")
for w in "${want[@]}"; do
  grep -qF "$w" <<<"$out" || { echo "FAIL: the check missed '$w'; it said:"; echo "$out"; failures=$((failures + 1)); }
done
[ "$n" = "${#want[@]}" ] || { echo "FAIL: $n findings in the planted tree, want ${#want[@]}:"; echo "$out"; failures=$((failures + 1)); }

# The real tree keeps to its layers.
out=$(check "$src")
if [ -n "$out" ]; then
  echo "FAIL: includes that break tf's layers (the rule is at the top of $0):"
  echo "$out"
  failures=$((failures + 1))
fi
nfiles=$(cd "$src" && find tf observers -type f \( -name '*.c' -o -name '*.h' \) | wc -l)
echo "checked the includes of $nfiles files in tf/ and observers/"
[ "$failures" = 0 ]

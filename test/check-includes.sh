#!/bin/sh
# check-includes.sh -- the module structure of src/ (doc/architecture.md):
#  1. no include circles among src/*.c, src/*.h and include/spin.h;
#  2. no library file includes a CLI header (cli.h) or the training header
#     (train.h): only cli*.c, main.c, cmd_*.c and train.c itself may;
#  3. no library file calls process-global thread setters (omp_set_num_threads,
#     openblas_set_num_threads outside util.c's configure-checked wrapper).
# Prints the include graph (file -> included files) with -v.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
cd "$top_srcdir"
fail=0
graph=$(for f in src/*.c src/*.h include/*.h; do
    sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
        if [ -f "src/$inc" ]; then echo "$f src/$inc"
        elif [ -f "include/$inc" ]; then echo "$f include/$inc"; fi
    done
done)
[ "${1:-}" = -v ] && echo "$graph"

# 1. circles: depth-first search over the edges, reporting the first back edge
cycle=$(echo "$graph" | awk '
    { adj[$1] = adj[$1] " " $2; node[$1] = 1; node[$2] = 1 }
    function dfs(u,   n, i, v, e) {
        state[u] = 1; path[++depth] = u
        n = split(adj[u], e, " ")
        for (i = 1; i <= n; i++) {
            v = e[i]
            if (state[v] == 1) { s = ""; for (k = 1; k <= depth; k++) if (started || path[k] == v) { started = 1; s = s path[k] " -> " }
                                 print s v; found = 1; return }
            if (!state[v]) dfs(v)
            if (found) return
        }
        state[u] = 2; depth--
    }
    END { for (u in node) if (!state[u] && !found) dfs(u) }')
if [ -n "$cycle" ]; then echo "FAIL: include circle: $cycle" >&2; fail=1; fi

# 2. library files must not see the CLI or training headers
for f in src/*.c src/*.h; do
    case "$f" in src/cli.[ch]|src/cli_*.c|src/main.c|src/cmd_*.c|src/train.[ch]) continue ;; esac
    if grep -Eq '^#include "(cli|train)\.h"' "$f"; then
        echo "FAIL: library file $f includes $(grep -Eo '^#include "(cli|train)\.h"' "$f")" >&2; fail=1
    fi
done

# 3. process-global thread state
for f in src/*.c; do
    case "$f" in src/main.c|src/cmd_*.c|src/cli.c|src/cli_*.c) continue ;; esac
    if grep -n 'omp_set_num_threads\|openblas_set_num_threads' "$f" | grep -v '^[0-9]*: *\*\|/\*' |
       { [ "$f" = src/util.c ] && grep -v 'openblas_set_num_threads' || cat; } | grep -q .; then
        echo "FAIL: $f sets process-global thread state" >&2; fail=1
    fi
done
[ "$fail" = 0 ] && echo "check-includes: $(echo "$graph" | wc -l) include edges, no circle; library free of CLI/training headers and global thread setters"
exit "$fail"

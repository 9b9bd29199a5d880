# stages.awk -- the timing and memory figures of a spin-impute log, one per line, for report.sh.
#
#   awk -v haps=TARGET_HAPLOTYPES -f bench/stages.awk LOG
#
# Reads every `[M::function] text` line and splits its text into clauses at ", ", "; " and
# " and "; a clause holding a number with a unit of time (s, ms, us, µs, min) or memory
# (kB, MB, GB) becomes one output line:
#   stage <TAB> value as logged <TAB> total seconds (or "-")
# stage = "function: label" (label = the clause's words before the number, or after its
# unit when none come before). Clauses joined by " and " share the per-unit suffix of the
# last one ("search 13.7 us and prediction 99.5 us per target haplotype per window").
# Totals: a rate per window is multiplied by the number of windows (from "(N windows)" or
# "N windows" anywhere in the log), a rate per target haplotype per window by haps x
# windows; a plain time is itself; memory has no total. Lines without such a clause are
# ignored, so stages that a later spin-impute logs (panel read, output) show up unchanged.
# After the stages: "CPU outside the engine" = the done line's CPU s minus the engine
# totals, when the log has both (no number when negative: engine threads that waited for a
# CPU count their waiting, so the difference is meaningful on a quiet machine only).
function tosec(v, u) {
    if (u == "ms") return v / 1e3
    if (u == "us" || u == "µs") return v / 1e6
    if (u == "min") return v * 60
    return v
}
function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
{ lines[++nl] = $0 }
match($0, /[0-9]+ windows/) { windows = substr($0, RSTART, RLENGTH) + 0 }
END {
    unitre = "[0-9]+(\\.[0-9]+)? ?(s|ms|us|µs|min|kB|MB|GB)([^A-Za-z]|$)"
    for (l = 1; l <= nl; l++) {
        line = lines[l]
        if (line !~ /^\[M::[^]]*\] /) continue
        fn = line; sub(/\].*/, "", fn); sub(/^\[M::/, "", fn)
        text = line; sub(/^\[M::[^]]*\] */, "", text)
        engine = text ~ /^engine:/
        sub(/^[A-Za-z][A-Za-z _-]*: /, "", text) # "engine: ", "done: "
        n = split(text, part, /, |; /)
        for (p = 1; p <= n; p++) {
            m = split(part[p], sub_, / and /)
            shared = ""
            if (m > 1 && match(sub_[m], unitre)) {
                rest = substr(sub_[m], RSTART)
                if (match(rest, / per .*|\/[A-Za-z].*/)) shared = substr(rest, RSTART)
            }
            for (q = 1; q <= m; q++) {
                c = sub_[q]
                if (!match(c, unitre)) continue
                label = trim(substr(c, 1, RSTART - 1))
                val = substr(c, RSTART)
                num = val + 0
                u = val; sub(/^[0-9.]+ ?/, "", u); unit = u; sub(/[^A-Za-z\265µ].*$/, "", unit)
                after = u; sub(/^[A-Za-zµ]+/, "", after)
                if (q < m && shared != "" && after !~ /[A-Za-z]/) { val = trim(val) shared; after = shared }
                if (label == "") { label = trim(after); sub(/^\/[^ ]* */, "", label) }
                tot = "-"
                if (unit !~ /B$/) {
                    s = tosec(num, unit)
                    if (after ~ /per target haplotype per window/) { if (windows > 0 && haps > 0) tot = s * haps * windows }
                    else if (after ~ /^\/window|per window/) { if (windows > 0) tot = s * windows }
                    else if (after !~ /^\/|per /) tot = s
                }
                if (engine && tot != "-") enginesum += tot
                if (label ~ /^CPU/ && tot != "-") cpu = tot
                printf "%s: %s\t%s\t%s\n", fn, label, trim(val), tot == "-" ? "-" : sprintf("%.2f", tot)
            }
        }
    }
    # negative when the engine threads waited for a CPU (a loaded machine): no number then
    if (enginesum > 0 && cpu != "") {
        if (cpu - enginesum >= 0) printf "CPU outside the engine\t(CPU s - engine thread-s)\t%.2f\n", cpu - enginesum
        else printf "CPU outside the engine\t(CPU s - engine thread-s < 0: engine threads waited for a CPU)\t-\n"
    }
}

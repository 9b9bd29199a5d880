#!/bin/sh
# check-dist.sh -- what the Bioconda recipe does, without conda: build the
# `make dist` tarball, unpack it in a temporary directory, run
# packaging/bioconda/build.sh's steps (./configure --prefix=$PREFIX && make &&
# make install) and run the installed binary with the installed default model.
# Then the installed library: build examples/impute.c with
# `pkg-config --cflags --libs libspin` against the prefix only, run it, and
# require its VCF to be byte-identical to the installed CLI's.
# Runs in its own directories: the only thing it does in the build tree is
# `make distdir` with distdir pointing into the temporary directory.
# Skipped when SPIN_SKIP_DIST=1, and inside `make distcheck` when the read-only
# source tree is visible as such (not as root; as root it runs nested, ~10 s).
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
[ "${SPIN_SKIP_DIST:-0}" = 1 ] && { echo "SKIP: SPIN_SKIP_DIST=1" >&2; exit 77; }
[ -w "$top_srcdir" ] || { echo "SKIP: read-only source tree (make distcheck)" >&2; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spin-dist.XXXXXX")
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/log" ] && tail -30 "$tmp/log" >&2; exit 1; }
# a clean make: not the jobserver of the `make check` that runs this test
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true

ver=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")
[ -n "$ver" ] || fail "no PACKAGE_VERSION in $top_builddir/Makefile"
# `make dist` = `make distdir` + tar; distdir points into $tmp so that nothing of
# the running build changes (an absolute distdir would put absolute names into
# the tar, hence tar here, as am__tar does: ustar, owner-neutral)
make -s -C "$top_builddir" distdir distdir="$tmp/spin-impute-$ver" > "$tmp/log" 2>&1 || fail "make distdir"
tarball=$tmp/spin-impute-$ver.tar.gz
( cd "$tmp" && tar --format=ustar --owner=0 --group=0 -chf - "spin-impute-$ver" | gzip -c > "$tarball" &&
  chmod -R u+w "spin-impute-$ver" && rm -rf "spin-impute-$ver" ) || fail "tar of the dist directory"
[ -f "$tarball" ] || fail "make dist did not write $tarball"
for f in configure Makefile.in man/spin-impute.1 workflow/Snakefile packaging/bioconda/meta.yaml \
         packaging/bioconda/build.sh test-data/ref.bcf test/check-chunks.sh; do
    tar -tzf "$tarball" | grep -qx "spin-impute-$ver/$f" || fail "$f missing from the tarball (EXTRA_DIST)"
done
if [ -f "$top_srcdir/model/default.spin" ]; then
    tar -tzf "$tarball" | grep -qx "spin-impute-$ver/model/default.spin" || fail "model/default.spin missing from the tarball"
fi

# build.sh, with PREFIX and CPU_COUNT as conda-build sets them
mkdir "$tmp/work" "$tmp/prefix"
( cd "$tmp/work" && tar -xzf "$tarball" && cd "spin-impute-$ver" &&
  PREFIX="$tmp/prefix" CPU_COUNT=1 bash ./packaging/bioconda/build.sh ) > "$tmp/log" 2>&1 || fail "build.sh"
bin=$tmp/prefix/bin/spin-impute
[ -x "$bin" ] || fail "no installed binary"
[ "$("$bin" --version)" = "spin-impute $ver" ] || fail "--version: $("$bin" --version)"
[ -f "$tmp/prefix/share/man/man1/spin-impute.1" ] || fail "man page not installed"

# the recipe's test: a tiny imputation with the installed default model
if [ -f "$top_srcdir/model/default.spin" ]; then
    [ -f "$tmp/prefix/share/spin-impute/default.spin" ] || fail "default model not installed in share/spin-impute"
    T=$top_srcdir/test-data
    ( unset SPIN_IMPUTE_MODEL; cd "$tmp" &&
      "$bin" impute -q -r 20:1000000-1050000 --buffer 50000 -o out.vcf.gz "$T/ref.bcf" "$T/target.vcf.gz" ) ||
        fail "installed binary with the installed default model"
    n=$(gzip -dc "$tmp/out.vcf.gz" | grep -vc '^#')
    [ "$n" -gt 0 ] || fail "tiny imputation wrote no record"
    echo "check-dist: tarball builds and installs; installed binary imputed $n records with the installed model"

    # libspin as installed: header, static and shared library, pkg-config file
    for f in include/spin.h lib/libspin.so lib/libspin.a lib/pkgconfig/libspin.pc; do
        [ -e "$tmp/prefix/$f" ] || fail "$f not installed"
    done
    # the shared library exports exactly what spin.h declares (functions not
    # static inline, and extern variables)
    api=$(grep -v 'static inline\|#define' "$tmp/prefix/include/spin.h" |
          grep -oE '(\*| )spin_[a-z0-9_]+(\(|;)' | tr -d '*(; ' | grep -v '_t$' | sort -u)
    exported=$(nm -D --defined-only "$tmp/prefix/lib/libspin.so" | awk '{print $NF}' | grep '^spin_' | sort -u)
    [ -n "$api" ] || fail "no declarations found in spin.h"
    [ "$api" = "$exported" ] || fail "libspin.so exports differ from spin.h: $(printf '%s\n' "$api" > "$tmp/a";
        printf '%s\n' "$exported" > "$tmp/b"; diff "$tmp/a" "$tmp/b" | grep '^[<>]' | tr '\n' ' ')"
    export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    flags=$(pkg-config --cflags --libs libspin) || fail "pkg-config --cflags --libs libspin"
    case "$flags" in *"$tmp/prefix/include"*) ;; *) fail "pkg-config flags do not name the prefix: $flags" ;; esac
    # the example from the unpacked tarball (what a user gets), compiled outside any build tree
    ex_src=$tmp/work/spin-impute-$ver/examples/impute.c
    # shellcheck disable=SC2086 # $flags is a list of words
    ${CC:-cc} -Wall -Wextra -Werror -o "$tmp/spin-example" "$ex_src" $flags -Wl,-rpath,"$tmp/prefix/lib" \
        > "$tmp/log" 2>&1 || fail "building examples/impute.c with: cc examples/impute.c $flags"
    ( unset SPIN_IMPUTE_MODEL; cd "$tmp" &&
      "$bin" impute -q --no-version -O v -r 20:1000000-1050000 -o cli.vcf "$T/ref.bcf" "$T/target.vcf.gz" &&
      ./spin-example "$tmp/prefix/share/spin-impute/default.spin" "$T/ref.bcf" "$T/target.vcf.gz" example.vcf \
          20:1000000-1050000 > example.txt ) || fail "running the example program"
    cmp -s "$tmp/cli.vcf" "$tmp/example.vcf" || fail "the example's VCF differs from the CLI's"
    n_ex=$(grep -vc '^#' "$tmp/example.vcf")
    [ "$n_ex" -gt 0 ] || fail "the example wrote no record"
    # the step API's count of untyped sites equals the records flagged IMP
    n_imp=$(grep -v '^#' "$tmp/example.vcf" | cut -f8 | grep -c 'IMP')
    grep -q ", $n_imp untyped sites," "$tmp/example.txt" || fail "example summary '$(cat "$tmp/example.txt")' vs $n_imp imputed records"
    echo "check-dist: examples/impute.c built with pkg-config against the installed libspin; $n_ex records, identical to the CLI"
else
    echo "check-dist: tarball builds and installs (no model/default.spin yet: imputation not tried)"
fi

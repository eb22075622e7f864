#!/bin/sh
# scripts/mutants.sh - our own mutation test (make mutants, docs/testing.md).
#
#   sh scripts/mutants.sh [-l LIST] [ID...]     (default LIST: tests/mutants.txt)
#   MUTANTS="id1 id2" sh scripts/mutants.sh     (the same selection by variable)
#   sh scripts/mutants.sh -c                     (check the list only: each
#                                                 old text found exactly once)
#
# Each mutant of LIST (one block per mutant: id, file, old, new, tests,
# breaks) is one plausible bug.  For each: a fresh copy of the tree (the
# tracked files as they are in the work tree, plus build/ so that only the
# mutated file is recompiled; the sample firmware in samples/*/build is
# symlinked, not rebuilt), the exact text `old` replaced by `new` in `file`
# (it must occur exactly once, else the list has rotted: the mutant is an
# ERROR and the run ends with status 2), a rebuild, then the test programs named in `tests`.  If
# one of them fails the mutant is killed; if all pass, the whole plain suite
# (tests/run.sh) runs, and a failure there kills it too.  A mutant that does
# not compile is an error in the list (ERROR, status 2), never a kill.  Before the
# mutants, the named tests run once on the unmutated copy: they must pass,
# or a kill would mean nothing.
#
# Prints one line per mutant (KILLED by which test, or SURVIVED) and the
# totals; exits 1 if any mutant survived, 2 on a broken list or build.
#
# MUTANT_TESTS_FROM=COMMIT takes tests/ from that commit instead (what the
# suite of an older commit would have caught); MUTANT_QUICK=1 stops at the
# named tests (a mutant they miss is reported as surviving them, without
# the whole suite).
set -u
cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
LIST=tests/mutants.txt
CHECK=0
while [ $# -gt 0 ]; do
  case "$1" in
    -l) LIST=$2; shift 2 ;;
    -c) CHECK=1; shift ;;
    *) break ;;
  esac
done
want="$* ${MUTANTS:-}"
TIMEOUT=${MUTANT_TIMEOUT:-300}
JOBS=${MUTANT_JOBS:-2}

die() { echo "mutants: $*" >&2; exit 2; }
[ -r "$LIST" ] || die "$LIST: cannot read the mutant list"
command -v perl >/dev/null || die "perl is needed to parse $LIST"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/flashsize-mutants.XXXXXX") || die "mktemp failed"
[ -n "${MUTANT_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

# The list, split into WORK/m/NNN.{id,file,old,new,tests,breaks}.
mkdir -p "$WORK/m"
perl -e '
  my ($list, $dir) = @ARGV; my %m; my $n = 0; my %seen; my $line = 0; my $last;
  open my $f, "<", $list or die "$list: $!\n";
  sub flush {
    return unless %m;
    for my $k (qw(id file old new tests breaks)) {
      die "$list: mutant ending at line $line has no \"$k\"\n" unless defined $m{$k} && length $m{$k};
    }
    die "$list: duplicate id $m{id}\n" if $seen{$m{id}}++;
    die "$list: $m{id}: old and new are the same\n" if $m{old} eq $m{new};
    $n++;
    for my $k (keys %m) {
      open my $o, ">", sprintf("%s/%03d.%s", $dir, $n, $k) or die "$!\n";
      print $o $m{$k}; close $o;
    }
    %m = ();
  }
  while (<$f>) {
    $line++;
    chomp;
    next if /^\s*#/;
    if (/^\s*$/) { flush(); next; }
    if (/^\+(.*?)\s*$/) {
      my $more = $1;
      die "$list:$line: a \"+\" line continues old or new only\n" unless defined $last && $last =~ /^(old|new)$/;
      $m{$last} .= "\n" . $more;
      next;
    }
    /^(\w+)\s+(.*?)\s*$/ or die "$list:$line: expected \"KEY VALUE\"\n";
    my ($k, $v) = ($1, $2);
    die "$list:$line: unknown key \"$k\"\n" unless $k =~ /^(id|file|old|new|tests|breaks)$/;
    die "$list:$line: \"$k\" given twice\n" if defined $m{$k};
    $m{$k} = $v;
    $last = $k;
  }
  $line++; flush();
  die "$list: no mutants\n" unless $n;
' "$LIST" "$WORK/m" || die "$LIST: malformed (see above)"

# The selection (every mutant unless ids were given).
sel=""
for f in "$WORK"/m/*.id; do
  id=$(cat "$f")
  if [ -z "$(echo $want)" ]; then sel="$sel ${f%.id}"; continue; fi
  for w in $want; do [ "$w" = "$id" ] && sel="$sel ${f%.id}"; done
done
for w in $want; do
  grep -qx -- "$w" "$WORK"/m/*.id 2>/dev/null || die "no mutant \"$w\" in $LIST"
done
[ -n "$sel" ] || die "nothing selected"

# apply_mutant M FILE: replace M's old text (exactly once) in FILE by its new
apply_mutant() {
  perl -e '
    my ($path, $oldf, $newf) = @ARGV;
    local $/; open my $o, "<", $oldf; my $old = <$o>; open my $n, "<", $newf; my $new = <$n>;
    open my $f, "<", $path or die "$path: $!\n"; my $t = <$f>; close $f;
    my $count = () = $t =~ /\Q$old\E/g;
    die "found $count times, wanted exactly once\n" unless $count == 1;
    $t =~ s/\Q$old\E/$new/;
    open $f, ">", $path or die "$path: $!\n"; print $f $t; close $f;
  ' "$2" "$1.old" "$1.new" 2>"$WORK/apply.err"
}

if [ "$CHECK" -eq 1 ]; then
  bad=0
  for m in $sel; do
    id=$(cat "$m.id"); file=$(cat "$m.file")
    cp "$file" "$WORK/check" 2>/dev/null || { echo "mutants: $id: $file does not exist"; bad=1; continue; }
    apply_mutant "$m" "$WORK/check" || { echo "mutants: $id: the text of \"old\" in $file: $(cat "$WORK/apply.err")"; bad=1; }
  done
  [ "$bad" -eq 0 ] && echo "mutants: $(echo $sel | wc -w) mutants, each old text found once"
  exit $((bad * 2))
fi

# The base copy: the tracked files as they are now, build/ (made up to date
# first, so each mutant recompiles only its file) and the samples linked.
echo "mutants: building the base copy"
make --no-print-directory -j"$JOBS" test-build >"$WORK/base-build.log" 2>&1 || { tail -n 30 "$WORK/base-build.log"; die "the tree does not build"; }
for d in samples/build samples/frozen/build samples/natmod/build samples/refgraph/build samples/literals/build; do
  [ -d "$d" ] || die "$d missing: run make samples first"
done
mkdir -p "$WORK/base"
git ls-files -z | tar --null -T - -cf - | tar -C "$WORK/base" -xf - || die "copying the tree failed"
cp -a build "$WORK/base/build"
if [ -n "${MUTANT_TESTS_FROM:-}" ]; then
  rm -rf "$WORK/base/tests"
  git archive "$MUTANT_TESTS_FROM" tests | tar -C "$WORK/base" -xf - || die "no tests/ at $MUTANT_TESTS_FROM"
  (cd "$WORK/base" && make --no-print-directory -j"$JOBS" test-build) >"$WORK/base-build.log" 2>&1 ||
    { tail -n 30 "$WORK/base-build.log"; die "the tests of $MUTANT_TESTS_FROM do not build"; }
fi
for d in samples/build samples/frozen/build samples/natmod/build samples/refgraph/build samples/literals/build; do
  ln -s "$ROOT/$d" "$WORK/base/$d"
done

# test NAME -> how to run it in a copy (cwd = the copy)
run_test() { # run_test NAME LOG
  case "$1" in
    *.sh) FLASHSIZE="$PWD/build/flashsize" timeout "$TIMEOUT" sh "tests/e2e/$1" >"$2" 2>&1 ;;
    *)    CMOCKA_MESSAGE_OUTPUT=TAP timeout "$TIMEOUT" "build/tests/$1" >"$2" 2>&1 ;;
  esac
  rc=$?
  [ "$rc" -eq 0 ] && ! grep '^not ok ' "$2" | grep -qv '# *SKIP'
}
test_exists() {
  case "$1" in *.sh) [ -f "tests/e2e/$1" ] ;; *) [ -f "tests/unit/$1.c" ] ;; esac
}

# The named tests must pass on the unmutated copy.
alltests=$(for m in $sel; do cat "$m.tests"; echo; done | tr ' ' '\n' | sort -u)
echo "mutants: baseline: $(echo $alltests | wc -w) test programs on the unmutated tree"
(
  cd "$WORK/base" || exit 2
  for t in $alltests; do
    test_exists "$t" || { echo "mutants: unknown test $t" >&2; exit 2; }
    run_test "$t" "$WORK/log" || { cat "$WORK/log" | tail -n 20; echo "mutants: $t fails without any mutant" >&2; exit 2; }
  done
) || exit 2

killed=0; survived=0; surv_ids=""; errors=""
for m in $sel; do
  id=$(cat "$m.id"); file=$(cat "$m.file")
  dir="$WORK/mut"
  rm -rf "$dir"; cp -a "$WORK/base" "$dir"
  if [ ! -f "$dir/$file" ]; then
    echo "ERROR    $id  $file does not exist (moved? update $LIST)"; errors="$errors $id"; continue
  fi
  if ! apply_mutant "$m" "$dir/$file"; then
    echo "ERROR    $id  the text of \"old\" in $file: $(cat "$WORK/apply.err")"; errors="$errors $id"; continue
  fi
  if ! (cd "$dir" && make --no-print-directory -j"$JOBS" test-build) >"$WORK/build.log" 2>&1; then
    grep -m3 -E 'error|Error' "$WORK/build.log" | sed 's/^/#   /'
    echo "ERROR    $id  the mutated tree does not build (a list error, not a kill)"; errors="$errors $id"; continue
  fi
  by=""
  for t in $(cat "$m.tests"); do
    if ! (cd "$dir" && run_test "$t" "$WORK/log"); then by=$t; break; fi
  done
  if [ -z "$by" ] && [ -z "${MUTANT_QUICK:-}" ]; then
    (cd "$dir" && timeout 3600 sh tests/run.sh build >"$WORK/suite.log" 2>&1) || by="the plain suite ($(grep -m1 '^not ok' "$WORK/suite.log" || echo 'status non-zero'))"
  fi
  if [ -n "$by" ]; then
    killed=$((killed + 1)); echo "KILLED   $id  by $by"
  else
    survived=$((survived + 1)); surv_ids="$surv_ids $id"
    echo "SURVIVED $id  ($file: $(cat "$m.breaks"))${MUTANT_QUICK:+ [named tests only]}"
  fi
  rm -rf "$dir"
done
echo "mutants: $((killed + survived)) run, $killed killed, $survived survived${surv_ids:+:$surv_ids}${errors:+; errors in the list:$errors}"
[ -z "$errors" ] || exit 2
[ "$survived" -eq 0 ]

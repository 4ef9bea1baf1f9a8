#!/usr/bin/env bash
# make fuzz: builds the libFuzzer binary (fuzz/Fuzz.swift with the sources of RelanceCore,
# RelanceEmail's parsers and RelancePayments, -sanitize=fuzzer,address) and runs every
# target for FUZZ_SECONDS each (default 75: thirteen targets, 16 minutes). Crashers are kept in
# fuzz/crashers/<target>/ and replayed by `fuzz/run.sh replay` (part of make test).
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFTC=${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}
CLANG=${CLANG:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
OUT=.build/fuzz
mkdir -p "$OUT/ccrypto"
cat > "$OUT/ccrypto/module.modulemap" <<MAP
module CCrypto {
    header "$(pwd)/Sources/CCrypto/include/CCrypto.h"
    export *
}
MAP
BIN="$OUT/relance-fuzz"
SOURCES=(Sources/RelanceCore/*.swift Sources/RelanceCore/Payments/*.swift Sources/RelancePayments/*.swift fuzz/Fuzz.swift
  Sources/RelanceEmail/SMTPReply.swift Sources/RelanceEmail/SMTPReplyReader.swift
  Sources/RelanceEmail/SMTPCapabilities.swift Sources/RelanceEmail/SMTPEnvelope.swift
  Sources/RelanceEmail/Punycode.swift Sources/RelanceEmail/MIMEEncoding.swift Sources/RelanceEmail/Mailbox.swift
  Sources/RelanceAPI/APITokens.swift Sources/RelanceEmail/Bounces/*.swift)
newer=$(find "${SOURCES[@]}" Sources/CCrypto -newer "$BIN" 2>/dev/null | head -1 || true)
if [ ! -x "$BIN" ] || [ -n "$newer" ]; then
  "$CLANG" -c -O1 -fsanitize=fuzzer-no-link,address -I Sources/CCrypto/include Sources/CCrypto/CCrypto.c -o "$OUT/CCrypto.o"
  "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -O -module-name RelanceCore -suppress-warnings \
    -I "$OUT/ccrypto" "${SOURCES[@]}" "$OUT/CCrypto.o" -lcrypto -lcrypt -o "$BIN" 2>&1 | grep -v "Cannot export local symbol" || true
fi
TARGETS=(json smtp-replies smtp-capabilities delivery-reports postal-address phone-number email-address mime-header
  instant references tokens-file bounces camt)
# FUZZ_ONLY="camt json" runs (or replays) those targets only.
if [ -n "${FUZZ_ONLY:-}" ]; then read -r -a TARGETS <<< "$FUZZ_ONLY"; fi
mode=${1:-run}
status=0
for target in "${TARGETS[@]}"; do
  crashers="fuzz/crashers/$target"
  mkdir -p "$crashers"
  if [ "$mode" = replay ]; then
    # Every kept crasher must now pass (the regression tests of the fuzzers' findings).
    files=("$crashers"/*)
    [ -e "${files[0]}" ] || { echo "fuzz replay $target: no crasher"; continue; }
    if FUZZ_TARGET=$target "$BIN" "${files[@]}" > "$OUT/$target.replay.log" 2>&1; then
      echo "fuzz replay $target: ${#files[@]} crasher(s) pass"
    else
      echo "fuzz replay $target: FAILED (see $OUT/$target.replay.log)"; status=1
    fi
    continue
  fi
  corpus="$OUT/corpus/$target"
  mkdir -p "$corpus"
  cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  seconds=${FUZZ_SECONDS:-75}
  start=$(date +%s)
  if FUZZ_TARGET=$target "$BIN" "$corpus" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$crashers/" -print_final_stats=1 > "$OUT/$target.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$target.log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz $target: $(( $(date +%s) - start )) s, $runs runs, no crash, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz $target: CRASH, input kept in $crashers/ (see $OUT/$target.log)"; status=1
  fi
done
exit $status

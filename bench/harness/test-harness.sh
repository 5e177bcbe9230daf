#!/usr/bin/env bash
# Checks the benchmark's arithmetic and judgement without running a switch:
# v2v-window.awk on a recorded generator log, v2v-judge.awk on windows that
# should and should not be flagged, v2v-summary.awk on rows with a
# generator-limited ceiling and on IMIX composition.  Run by `meson test
# bench-harness`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fail=0
expect() {  # NAME EXPECTED ACTUAL: ACTUAL must contain EXPECTED
  if [[ $3 == *"$2"* ]]; then echo "ok - $1"; else echo "not ok - $1: wanted '$2' in '$3'"; fail=1; fi
}
judge() { awk -v size=64 -v round=1 -v name=x -v secs=3 -v cpp=- -f "$here/v2v-judge.awk"; }

# A recorded 3 s window (testpmd-io on a loaded machine): the forward
# counters of the window only, testpmd's own rate.
w=$(awk -f "$here/v2v-window.awk" "$here/testdata/generator-testpmd-io.log")
expect "window counts" "offered=31514432 placed=3835936 refused=27678496 delivered=3831104" "$w"
expect "window rate and length" "rx_pps=1257285 window_s=3.047 rx_frame=64.0" "$w"
expect "switch-limited window is counted" "64 1 x 10.343 1.257 12.2 87.8 0.0 0.64 - 1 0 -" "$(judge <<<"$w")"

base="placed=1000000 delivered=1000000 ab=500000 ba=500000 sent_a=500000 sent_b=500000 rx_pps=333333 window_s=3.000 rx_frame=64.0 tx_frame=64.0"
expect "no push-back is generator-limited" " 1 1 gen-limited" "$(judge <<<"offered=1010000 refused=10000 $base")"
expect "push-back is not" " 1 0 -" "$(judge <<<"offered=1100000 refused=100000 $base")"
expect "more out than in is EXCESS" " 0 0 EXCESS" \
  "$(judge <<<"offered=1100000 refused=100000 ${base/ab=500000/ab=600000}")"
expect "changed frames are SIZE" "SIZE(60.0!=64.0)" \
  "$(judge <<<"offered=1100000 refused=100000 ${base/rx_frame=64.0/rx_frame=60.0}")"
expect "a dropping switch is lossy" "lossy(45%)" \
  "$(judge <<<"offered=1100000 refused=100000 ${base/delivered=1000000/delivered=500000}")"
expect "nothing back is NO-TRAFFIC" "NO-TRAFFIC" \
  "$(judge <<<"offered=1100000 refused=100000 placed=1000000 delivered=0 ab=0 ba=0 sent_a=500000 sent_b=500000 rx_pps=0 window_s=0 rx_frame=0 tx_frame=64.0")"
expect "a log without a window" "NO-WINDOW" "$(judge <<<"error=no-window-in-log")"

summary() { awk -v sizes="$1" -v switches=dvs,testpmd-io -v ours=dvs -v ceiling=testpmd-io -v rounds=2 -v secs=10 -f "$here/v2v-summary.awk"; }
rows="64 1 dvs 10 6 60 40 0 3 300 1 0 -
64 1 testpmd-io 10 9.8 98 1 0 5 200 1 1 gen-limited
64 2 dvs 10 6 60 40 0 3 300 1 0 -
64 2 testpmd-io 12 10 83 17 0 5 200 1 0 -"
s=$(summary 64 <<<"$rows")
expect "flagged round counted" "GENERATOR-LIMITED in 1 of 2 rounds" "$s"
expect "ratio over the unflagged round only" "dvs/testpmd-io=0.60" "$s"
s=$(summary 64 <<<"$(sed 's/ 1 0 -$/ 1 1 gen-limited/' <<<"$rows")")
expect "every round flagged" "unreliable" "$s"
s=$(summary imix <<<"64 1 dvs 10 7 70 30 0 3 300 1 0 -
594 1 dvs 5 4 80 20 0 3 300 1 0 -
1518 1 dvs 3 1 33 66 0 3 300 1 0 -
64 1 testpmd-io 10 7 70 30 0 3 300 1 0 -
594 1 testpmd-io 5 4 80 20 0 3 300 1 0 -
1518 1 testpmd-io 3 2 66 33 0 3 300 1 0 -")
# 12 / (7/7 + 4/4 + 1/1) = 4 Mpps; with 1518 at 2 Mpps: 12 / 2.5 = 4.8
expect "IMIX composed" "dvs              4.00" "$s"
expect "IMIX ratio" "dvs/testpmd-io=0.83" "$s"
exit $fail

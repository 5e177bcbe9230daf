# Summarizes bench/v2v-compare.sh's result rows (v2v-judge.awk) per frame
# size: the median of each switch's delivered rate over its counted runs,
# and our switch's ratio to each peer as the median of same-round ratios.
# A round whose ceiling was generator-limited gives no ratio to the
# ceiling; a ratio that used a run where our switch was itself
# generator-limited is a lower bound ("≥").
#
# IMIX is 64, 594 and 1518-byte frames in the proportion 7:4:1 by frames.
# testpmd 22.11's flowgen sends one length, so the IMIX rate is composed
# from the three fixed-size runs of the same round: a frame costs what its
# size costs alone, so 12 frames take 7/r64 + 4/r594 + 1/r1518 seconds.
# A composed run counts if its three parts do; it is generator-limited if
# any part is.
#
# Variables: sizes ("64,1518,imix"), switches (in print order), ours,
# ceiling, rounds, secs.
function median(list,   n, a, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
  if (n == 0) return ""
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
  k = $1 SUBSEP $2 SUBSEP $3
  seen[k] = 1; off[k] = $4; del[k] = $5; dpct[k] = $6; gbps[k] = $9; cpp[k] = $10
  valid[k] = $11; genlim[k] = $12
}
END {
  ns = split(sizes, S, ","); nw = split(switches, W, ",")
  imix_bytes = (7 * 64 + 4 * 594 + 1518) / 12
  for (r = 1; r <= rounds; r++) for (w = 1; w <= nw; w++) {
    a = "64" SUBSEP r SUBSEP W[w]; b = "594" SUBSEP r SUBSEP W[w]; c = "1518" SUBSEP r SUBSEP W[w]
    k = "imix" SUBSEP r SUBSEP W[w]
    if (!(a in seen) || !(b in seen) || !(c in seen)) continue
    seen[k] = 1
    valid[k] = valid[a] && valid[b] && valid[c] && del[a] > 0 && del[b] > 0 && del[c] > 0
    genlim[k] = genlim[a] || genlim[b] || genlim[c]
    if (!valid[k]) continue
    del[k] = 12 / (7 / del[a] + 4 / del[b] + 1 / del[c])
    off[k] = 12 / (7 / off[a] + 4 / off[b] + 1 / off[c])
    dpct[k] = 100 * del[k] / off[k]
    gbps[k] = del[k] * 1e6 * imix_bytes * 8 / 1e9
    cpp[k] = "-"
  }
  for (s = 1; s <= ns; s++) {
    z = S[s]; flagged = 0; counted_rounds = 0
    for (r = 1; r <= rounds; r++) {
      k = z SUBSEP r SUBSEP ceiling
      if (!(k in seen)) continue
      counted_rounds++
      if (!valid[k] || genlim[k]) { flagged++; bad_round[z, r] = 1 }
    }
    label = z == "imix" ? "IMIX (64/594/1518 at 7:4:1, composed)" : z "-byte frames"
    printf "\n%s, %d rounds of %d s", label, rounds, secs
    if (counted_rounds) {
      if (flagged == counted_rounds)
        printf ": the ceiling (%s) was GENERATOR-LIMITED in every round: ratios to it are unreliable", ceiling
      else if (flagged)
        printf ": the ceiling (%s) was GENERATOR-LIMITED in %d of %d rounds, ratios to it over the other %d", ceiling, flagged, counted_rounds, counted_rounds - flagged
      else
        printf ": the ceiling (%s) was switch-limited in every round", ceiling
    }
    printf "\n  %-11s %9s %9s %7s %8s %9s %12s\n", "switch", "Mpps", "offered", "deliv%", "Gbit/s", "cyc/pkt", "ratio"
    for (w = 1; w <= nw; w++) {
      p = W[w]; lp = ""; lo = ""; ld = ""; lg = ""; lc = ""; lr = ""; skipped = 0; floor = 0; limited = 0
      for (r = 1; r <= rounds; r++) {
        k = z SUBSEP r SUBSEP p
        if (!(k in seen)) continue
        if (!valid[k]) { skipped++; continue }
        if (genlim[k]) limited++
        lp = lp " " del[k]; lo = lo " " off[k]; ld = ld " " dpct[k]; lg = lg " " gbps[k]
        if (cpp[k] != "-") lc = lc " " cpp[k]
        o = z SUBSEP r SUBSEP ours
        if (p == ours || !(o in seen) || !valid[o]) continue
        if (p == ceiling && bad_round[z, r]) continue
        lr = lr " " del[o] / del[k]; if (genlim[o]) floor = 1
      }
      if (lp == "") { printf "  %-11s %9s   (no counted run)\n", p, "-"; continue }
      if (p == ours) ratio = "-"
      else if (lr == "") ratio = "unreliable"
      else ratio = sprintf("%s%s/%s=%.2f", floor ? "≥" : "", ours, p, median(lr))
      c = median(lc); if (c == "") c = "-"; else c = sprintf("%.0f", c)
      printf "  %-11s %9.2f %9.2f %7.1f %8.2f %9s   %s%s%s\n", p, median(lp), median(lo), median(ld), median(lg), c, ratio,
        (skipped ? sprintf("  (%d run(s) not counted)", skipped) : ""),
        (limited ? sprintf("  (%d run(s) generator-limited)", limited) : "")
    }
  }
}

# Turns one window (v2v-window.awk's key=value line) into a result row for
# bench/v2v-compare.sh, with the checks that keep a figure from lying:
#   gen-limited  the switch refused < 3 % of what was offered: its rings
#                never filled, so the generator, not the switch, set the
#                rate (a floor for this switch; for the ceiling, the round
#                says nothing about ratios)
#   lossy        the switch took frames and did not deliver 2 % or more
#                (delivered is what counts; this says where the rest went)
#   EXCESS       more frames came out of a port than the generator put into
#                the other one: duplicates, reflections or the switch's own
#                frames; the run is not counted
#   SIZE         delivered frames are not the size that was sent (changed
#                or truncated in the switch); not counted
#   NO-TRAFFIC   nothing came back (the switch did not attach?); not counted
#   unbalanced   one direction delivered < 80 % of the other
#   window       testpmd's window differs from the asked length by > 20 %
# Variables: size (label), round, name (the switch), secs, cpp (cycles/packet or -).
# Input: one key=value line.  Output: one row,
#   size round switch offered delivered deliv% refused% lost% Gbit/s cpp valid genlim notes
# (rates in Mpps; Gbit/s of frames with FCS, without preamble and gap).
{
  for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  if ("error" in v) {
    printf "%s %s %s - - - - - - - 0 0 NO-WINDOW(%s)\n", size, round, name, v["error"]; next
  }
  notes = ""; valid = 1; genlim = 0
  offered = v["offered"]; placed = v["placed"]; delivered = v["delivered"]
  if (delivered == 0 || v["window_s"] == 0) { valid = 0; notes = notes ",NO-TRAFFIC" }
  # A window's edges see frames in flight (a ring or two of 256): slack.
  slack = 2048
  if (v["ab"] > v["sent_a"] * 1.002 + slack || v["ba"] > v["sent_b"] * 1.002 + slack) {
    valid = 0; notes = notes ",EXCESS"
  }
  if (delivered > 0 && (v["rx_frame"] - v["tx_frame"] > 0.5 || v["tx_frame"] - v["rx_frame"] > 0.5)) {
    valid = 0; notes = notes ",SIZE(" v["rx_frame"] "!=" v["tx_frame"] ")"
  }
  refused = offered > 0 ? v["refused"] / offered : 0
  if (offered > 0 && refused < 0.03) { genlim = 1; notes = notes ",gen-limited" }
  lost = offered > 0 ? (placed - delivered) / offered : 0
  if (lost >= 0.02) notes = notes sprintf(",lossy(%.0f%%)", lost * 100)
  lo = v["ab"] < v["ba"] ? v["ab"] : v["ba"]; hi = v["ab"] < v["ba"] ? v["ba"] : v["ab"]
  if (hi > 0 && lo < 0.8 * hi) notes = notes ",unbalanced"
  w = v["window_s"]
  if (w > 0 && (w > secs * 1.2 || w < secs * 0.8)) notes = notes sprintf(",window(%.1fs)", w)
  sub(/^,/, "", notes); if (notes == "") notes = "-"
  printf "%s %s %s %.3f %.3f %.1f %.1f %.1f %.2f %s %d %d %s\n", size, round, name,
    (w > 0 ? offered / w : 0) / 1e6, v["rx_pps"] / 1e6,
    (offered > 0 ? delivered / offered : 0) * 100, refused * 100, lost * 100,
    v["rx_pps"] * v["rx_frame"] * 8 / 1e9, cpp, valid, genlim, notes
}

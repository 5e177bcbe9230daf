# Reads the generator's testpmd log (v2v-generator.sh) and prints the
# measured window as one line of key=value pairs:
#   offered     frames flowgen built and tried to send (TX-total)
#   placed      frames the switch's rings took (TX-packets)
#   refused     frames a full ring turned away (TX-dropped): the switch's
#               push-back, the sign that it, not the generator, was the limit
#   delivered   frames that came back (RX-packets, both ports)
#   ab, ba      frames delivered port 0 -> port 1 and port 1 -> port 0
#   sent_a, sent_b   frames placed on port 0 and on port 1
#   rx_pps      delivered frames per second, testpmd's own TSC-timed rate
#               over exactly the window
#   window_s    the window's length (delivered / rx_pps)
#   rx_frame    mean length of a delivered frame including the FCS
#   tx_frame    the same for the frames the generator sent
# Blocks used: the second "show port stats all" (the first opens the
# window) and the first forward-statistics report ("show fwd stats all";
# "stop" repeats it).
/^ *#+ NIC statistics for port/ { nic++; port = $6 + 0; in_nic = (nic > 2 && nic <= 4); next }
/^ *#+ *$/ { in_nic = 0 }
/Forward statistics for port/ && !fwd_done { in_fwd = 1; port = $6 + 0 }
/Accumulated forward statistics/ { if (in_fwd) fwd_done = 1; in_fwd = 0 }
in_nic && /RX-packets:/ { nic_rx[port] = $2; nic_rx_bytes[port] = $6 }
in_nic && /TX-packets:/ { nic_tx[port] = $2; nic_tx_bytes[port] = $6 }
in_nic && /Rx-pps:/ { rx_pps[port] = $2 }
in_fwd && /RX-packets:/ { fwd_rx[port] = $2 }
in_fwd && /TX-packets:/ { fwd_tx[port] = $2; fwd_drop[port] = $4; fwd_total[port] = $6 }
END {
  if (nic < 4 || !fwd_done) { print "error=no-window-in-log"; exit 1 }
  delivered = fwd_rx[0] + fwd_rx[1]
  pps = rx_pps[0] + rx_pps[1]
  window = pps > 0 ? delivered / pps : 0
  # frames on the wire count the 4-byte FCS that virtio does not carry
  rx_frame = delivered > 0 ? (nic_rx_bytes[0] + nic_rx_bytes[1]) / (nic_rx[0] + nic_rx[1]) + 4 : 0
  tx_frame = (nic_tx[0] + nic_tx[1]) > 0 ? (nic_tx_bytes[0] + nic_tx_bytes[1]) / (nic_tx[0] + nic_tx[1]) + 4 : 0
  printf "offered=%d placed=%d refused=%d delivered=%d ab=%d ba=%d sent_a=%d sent_b=%d rx_pps=%d window_s=%.3f rx_frame=%.1f tx_frame=%.1f\n",
    fwd_total[0] + fwd_total[1], fwd_tx[0] + fwd_tx[1], fwd_drop[0] + fwd_drop[1],
    delivered, fwd_rx[1], fwd_rx[0], fwd_tx[0], fwd_tx[1], pps, window, rx_frame, tx_frame
}

/**
 * Local ports in use in [low, high] from /proc/net/tcp or tcp6 text, added to `into`. Each line after
 * the header is "sl local_address rem_address st …" with the address as HEX_IP:HEX_PORT. Every
 * socket state counts (TIME_WAIT holds its port as surely as ESTABLISHED). Returns malformed lines.
 */
export function collectLocalPorts(text: string, low: number, high: number, into: Set<number>): number {
  let malformed = 0;
  let start = text.indexOf('\n') + 1; // the header
  while (start > 0 && start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // "  12: 0100007F:8AE4 ..." — the local port ends at the first space after the first ":" of the address.
    const colon = text.indexOf(':', text.indexOf(':', start) + 1);
    const space = colon < 0 ? -1 : text.indexOf(' ', colon);
    if (colon < 0 || space < 0 || space > end) {
      if (text.slice(start, end).trim() !== '') malformed++;
    } else {
      const port = parseInt(text.slice(colon + 1, space), 16);
      if (Number.isNaN(port)) malformed++;
      else if (port >= low && port <= high) into.add(port);
    }
    start = end + 1;
  }
  return malformed;
}

/** /proc/sys/net/ipv4/ip_local_port_range: "32768\t60999". */
export function parsePortRange(text: string): { low: number; high: number } {
  const [low, high] = text.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high) || low! > high! || low! < 1 || high! > 65535) {
    throw new Error(`ip_local_port_range: bad "${text.trim()}"`);
  }
  return { low: low!, high: high! };
}

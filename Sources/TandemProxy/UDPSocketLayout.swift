/// How the UDP workers share a listen address (`modparam("tandem", "udp_sockets", "shared" | "per_worker")`).
public enum UDPSocketLayout: String, Sendable, CaseIterable {
    /// One socket per listen address, watched by every worker's reactor with an exclusive wake-up
    /// (`EPOLLEXCLUSIVE`): a datagram wakes one idle worker, so the traffic of a single peer (an SBC,
    /// a load generator) spreads over all workers, and a worker blocked in a synchronous call leaves
    /// the socket to the others. Two datagrams from one peer may be processed by two workers at once;
    /// the transaction tables are shared, so a retransmission or reply is matched wherever it lands.
    /// The default.
    case shared
    /// One `SO_REUSEPORT` socket per worker and listen address: the kernel picks the socket by a hash
    /// of the sender's address and port, so each peer always lands on the same worker — one peer never
    /// uses more than one worker, and a worker that blocks stalls every peer hashed to it.
    case perWorker = "per_worker"
}

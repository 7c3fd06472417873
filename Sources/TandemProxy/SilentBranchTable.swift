import Reactor
import Synchronization

/// The branches that have heard nothing yet, by next-hop address (``ProxyCore/handleUnreachable(_:worker:)``
/// fails them at once with 503 on an ICMP error for that address).
///
/// Every relayed request adds its branch here and its first reply removes it, so with one busy next hop
/// (a single upstream/downstream, a load test) every worker went through the same lock for each branch.
/// The branches of one destination are spread over ``slices`` sets by the last byte of the branch id
/// (random for the ids Tandem makes), each set under its own shard of a ``ShardedTable``; an ICMP error
/// (rare) takes all the slices of its destination.
struct SilentBranchTable: Sendable {
    /// Sets per destination (a power of two).
    static let slices = 16

    struct Key: Hashable, Sendable {
        let destination: SocketAddress
        let slice: UInt8
    }

    private let table = ShardedTable<Key, Set<String>>(shardCount: 256)

    @inline(__always)
    private static func key(_ branchID: String, _ destination: SocketAddress) -> Key {
        Key(destination: destination, slice: (branchID.utf8.last ?? 0) & UInt8(slices - 1))
    }

    /// Adds `branchID` to the silent branches of `destination`.
    func remember(_ branchID: String, destination: SocketAddress) {
        table.modify(Self.key(branchID, destination)) { set in
            if set == nil { set = [] }
            set?.insert(branchID)
        }
    }

    /// Removes `branchID` (it heard a reply or ended); an emptied set is dropped.
    func forget(_ branchID: String, destination: SocketAddress) {
        table.modify(Self.key(branchID, destination)) { set in
            set?.remove(branchID)
            if set?.isEmpty == true { set = nil }
        }
    }

    /// Removes and returns every silent branch of `destination`.
    func take(_ destination: SocketAddress) -> Set<String> {
        var all: Set<String> = []
        for slice in 0..<Self.slices {
            let taken = table.modify(Key(destination: destination, slice: UInt8(slice))) { set -> Set<String> in
                let taken = set ?? []
                set = nil
                return taken
            }
            all.formUnion(taken)
        }
        return all
    }

    /// The silent branches of `destination` (nil when none).
    func lookup(_ destination: SocketAddress) -> Set<String>? {
        var all: Set<String> = []
        for slice in 0..<Self.slices {
            if let set = table.lookup(Key(destination: destination, slice: UInt8(slice))) { all.formUnion(set) }
        }
        return all.isEmpty ? nil : all
    }

    /// The number of non-empty sets held (at most ``slices`` per destination; 0 when no branch is silent).
    var count: Int { table.count }
}

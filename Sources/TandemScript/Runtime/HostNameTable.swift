/// The host names a script compares addresses with (`src_ip == backup.example.com`) and the
/// addresses each resolves to.
///
/// `@unchecked Sendable`: the compiler adds the names, the host resolves them once
/// (``Script/resolveHostNames(_:)``) before any worker runs the script, and afterwards the table is
/// only read.
final class HostNameTable: @unchecked Sendable {
    /// Lower-cased names, by slot.
    private(set) var names: [String] = []
    /// Where each name is first written, by slot.
    private(set) var locations: [SourceLocation] = []
    /// The resolved addresses of each name, by slot (empty: not resolved, or no address).
    private(set) var addresses: [[IPAddress]] = []

    /// The slot of `name`, added on first use.
    func slot(for name: String, at location: SourceLocation) -> Int {
        if let i = names.firstIndex(of: name) { return i }
        names.append(name)
        locations.append(location)
        addresses.append([])
        return names.count - 1
    }

    func setAddresses(_ list: [IPAddress], slot: Int) { addresses[slot] = list }

    /// Whether `value` names the host: the same name (case-insensitive), or one of its addresses.
    func matches(_ value: String, slot: Int) -> Bool {
        if let ip = IPAddress(value) { return addresses[slot].contains(ip) }
        return value.lowercased() == names[slot]
    }
}

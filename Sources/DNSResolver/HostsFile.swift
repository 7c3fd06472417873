import Glibc
import Reactor

/// `/etc/hosts` as the system configures it, read once when the resolver environment is set up
/// (never on the packet path): lower-cased names to their addresses, in file order.
public enum HostsFile {
    /// Reads and parses `path`; empty if it cannot be read.
    public static func load(_ path: String = "/etc/hosts") -> [String: [SocketAddress]] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [:] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// Parses hosts-file text: `ADDRESS NAME [ALIAS…]` per line, `#` comments.
    public static func parse(_ text: String) -> [String: [SocketAddress]] {
        var table: [String: [SocketAddress]] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let address = SocketAddress(ip: String(fields[0]), port: 0) else { continue }
            for name in fields.dropFirst() {
                let key = name.lowercased()
                if !(table[key]?.contains(address) ?? false) { table[key, default: []].append(address) }
            }
        }
        return table
    }
}

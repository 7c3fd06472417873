import Glibc
import Synchronization

/// Picks free UDP ports on 127.0.0.1 for one test run (spread so concurrent tests do not collide).
public enum Ports {
    private static let next = Mutex<UInt16>(UInt16(21000 + Int(getpid() % 200) * 40))

    /// A UDP and TCP port that is free now.
    public static func free() -> UInt16 {
        while true {
            let port = next.withLock { value -> UInt16 in
                value = value >= 60000 ? 21000 : value + 1
                return value
            }
            if isFree(port) { return port }
        }
    }

    /// True if nothing is bound to 127.0.0.1:`port` (UDP and TCP).
    public static func isFree(_ port: UInt16) -> Bool {
        canBind(port, type: Int32(SOCK_DGRAM.rawValue)) && canBind(port, type: Int32(SOCK_STREAM.rawValue))
    }

    private static func canBind(_ port: UInt16, type: Int32) -> Bool {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on now, below the kernel's ephemeral range where it can
/// (``Ports/free()``): tests that later start a server on it must not find it taken by one of the many
/// client connections other tests open meanwhile (an ephemeral port from `bind(0)` can be).
public func closedPort() -> Int {
    Int(Ports.free())
}

@testable import Reactor
import TandemTestSupport

// Box, Shared and spin(_:limitMs:until:) come from TandemTestSupport.

let loopback = SocketAddress(ip: "127.0.0.1", port: 0)!

func writeBytes(_ fd: Int32, _ bytes: [UInt8]) throws {
    let result = try bytes.withUnsafeBytes { try System.write(fd, $0) }
    precondition(result == .processed(bytes.count))
}

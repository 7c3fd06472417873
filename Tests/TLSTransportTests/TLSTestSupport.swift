import Glibc
import TLSTransport
import TandemTestSupport
import Testing

extension TestCertificates {
    /// A server configuration with the test server certificate, trusting the test CA.
    static func server(require: Bool = true, verify: Bool = true,
                       versions: TLSVersionRange = .all) throws -> TLSContextConfiguration {
        var c = TLSContextConfiguration(role: .server)
        c.certificatePath = try path("server.pem")
        c.privateKeyPath = try path("server.key")
        c.caListPath = try path("ca.pem")
        c.requireCertificate = require
        c.verifyCertificate = verify
        c.versions = versions
        return c
    }

    /// A client configuration presenting `certificate` (nil: none) and trusting `ca`.
    static func client(certificate: String? = "client", ca: String = "ca", verify: Bool = true,
                       versions: TLSVersionRange = .all, serverName: String? = "localhost") throws -> TLSContextConfiguration {
        var c = TLSContextConfiguration(role: .client)
        if let certificate {
            c.certificatePath = try path("\(certificate).pem")
            c.privateKeyPath = try path("\(certificate).key")
        }
        c.caListPath = try path("\(ca).pem")
        c.verifyCertificate = verify
        c.versions = versions
        c.serverName = serverName
        return c
    }
}

/// Plaintext each side of an in-memory pair received while pumping.
struct Received {
    var byClient: [UInt8] = []
    var byServer: [UInt8] = []
}

/// Moves ciphertext between two sessions until neither has output (at most `rounds` exchanges). Errors
/// are left in the sessions' states.
@discardableResult
func pump(_ client: TLSSession, _ server: TLSSession, rounds: Int = 50, pieceSize: Int = .max) -> Received {
    var received = Received()
    for _ in 0..<rounds {
        guard client.wantsWrite || server.wantsWrite else { break }
        let toServer = client.takeOutput()
        var index = 0
        while index < toServer.count {
            let end = min(toServer.count, index + pieceSize)
            if let data = try? server.receive(ciphertext: Array(toServer[index..<end])) { received.byServer += data }
            index = end
        }
        let toClient = server.takeOutput()
        if !toClient.isEmpty, let data = try? client.receive(ciphertext: toClient) { received.byClient += data }
    }
    return received
}

/// The error a session failed with, nil if it did not fail.
func failure(of session: TLSSession) -> TLSError? {
    if case .failed(let error) = session.state { return error }
    return nil
}

/// A blocking TCP socket on 127.0.0.1 for tests, with a poll-based read timeout.
final class TestSocket {
    let fd: Int32

    init(fd: Int32) { self.fd = fd }
    deinit { Glibc.close(fd) }

    /// Connects to 127.0.0.1:`port`, retrying for up to `limitMs` while nothing listens yet.
    static func connect(port: UInt16, limitMs: UInt64 = 5000) throws -> TestSocket {
        let start = nowMs()
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = loopback(port)
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            if ok { return TestSocket(fd: fd) }
            Glibc.close(fd)
            try #require(nowMs() - start < limitMs, "nothing listens on 127.0.0.1:\(port)")
            usleep(50_000)
        }
    }

    /// A listening socket on 127.0.0.1:`port`.
    static func listen(port: UInt16) throws -> TestSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        try #require(bound && Glibc.listen(fd, 4) == 0, "cannot listen on 127.0.0.1:\(port)")
        return TestSocket(fd: fd)
    }

    /// Accepts one connection within `limitMs`.
    func accept(limitMs: Int32 = 5000) throws -> TestSocket {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        try #require(poll(&p, 1, limitMs) == 1, "no connection within \(limitMs) ms")
        let client = Glibc.accept(fd, nil, nil)
        try #require(client >= 0)
        return TestSocket(fd: client)
    }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Bytes read within `limitMs`: nil on timeout, empty at end of stream.
    func read(limitMs: Int32) -> [UInt8]? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, limitMs) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n <= 0 ? [] : Array(buffer[0..<n])
    }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// Runs `session` over `socket` (writing its output, feeding what arrives) until `done` holds, the stream
/// ends, the session finishes, or `limitMs` passes. Returns the plaintext received.
func drive(_ session: TLSSession, over socket: TestSocket, limitMs: UInt64 = 5000,
           until done: ([UInt8]) -> Bool) -> [UInt8] {
    var plaintext: [UInt8] = []
    let start = nowMs()
    while nowMs() - start < limitMs {
        if session.wantsWrite { socket.write(session.takeOutput()) }
        if done(plaintext) || session.state.isFinished { break }
        guard let bytes = socket.read(limitMs: 100) else { continue }
        if bytes.isEmpty { break }
        guard let data = try? session.receive(ciphertext: bytes) else {
            if session.wantsWrite { socket.write(session.takeOutput()) }
            break
        }
        plaintext += data
    }
    return plaintext
}

/// A process started in the background by bash (empty signal mask), killed on `stop()`.
final class BackgroundProcess {
    let pid: pid_t
    let outputPath: String

    /// Starts `command` with stdout and stderr in a temporary file (and stdin from `stdinPath` if given).
    init(_ command: String, stdinPath: String? = nil) throws {
        let dir = try #require(TestCertificates.directory)
        let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        outputPath = "\(dir)/proc-\(tag).out"
        let pidPath = "\(dir)/proc-\(tag).pid"
        let input = stdinPath.map { "< '\($0)'" } ?? "< /dev/null"
        let status = shell("\(command) \(input) > '\(outputPath)' 2>&1 & echo $! > '\(pidPath)'")
        try #require(status == 0)
        let text = try #require(readFile(pidPath))
        pid = try #require(pid_t(text.filter { $0.isNumber }))
    }

    /// The output so far.
    var output: String { readFile(outputPath) ?? "" }

    func stop() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }
}

/// The contents of a small text file, nil if it cannot be read.
func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

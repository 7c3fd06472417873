import Glibc
import TandemTestSupport

/// A private nx-27017 on a spare port (its own state dir, so the shared test server is untouched),
/// driven through scripts/test-servers/mongo.sh; it can be paused (SIGSTOP), stopped and restarted.
final class PrivateServer {
    let port: Int
    let state: String
    private let control: String

    init() {
        port = closedPort()
        state = "/tmp/tandem-mongo-private-\(getpid())-\(port)"
        control = "TANDEM_TEST_STATE_DIR=\(state) TANDEM_TEST_MONGO_PORT=\(port) bash \(TestServer.repositoryRoot)/scripts/test-servers/mongo.sh"
    }

    deinit {
        resume()
        stop()
        shell("rm -rf \(state)")
    }

    var url: String { "mongodb://127.0.0.1:\(port)/tandem" }

    @discardableResult func start() -> Bool { shell("\(control) start >/dev/null 2>&1") == 0 }
    /// Kills the server (SIGKILL: nx-27017 takes ~10 s to honour SIGTERM while clients are connected),
    /// then lets the script clean up its pid file.
    func stop() {
        if let pid {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
            let t0 = nowMs()
            while Self.running(pid) && nowMs() - t0 < 3000 { usleep(5_000) }
        }
        shell("\(control) stop >/dev/null 2>&1")
    }

    /// The server process id (from the script's pid file).
    var pid: pid_t? {
        guard let file = fopen("\(state)/mongo/pid", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, 32, file) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return pid_t(text)
    }

    /// Whether `pid` exists and is not a zombie (a killed orphan waits for init to reap it).
    static func running(_ pid: pid_t) -> Bool {
        guard let file = fopen("/proc/\(pid)/stat", "r") else { return false }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, 512, file) != nil else { return false }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return false }
        let state = text[text.index(after: close)...].drop { $0 == " " }.first
        return state != "Z" && state != "X"
    }

    /// Freezes the server: connections stay open, nothing is answered.
    func pause() { if let pid { kill(pid, SIGSTOP) } }
    /// Lets a paused server run again.
    func resume() { if let pid { kill(pid, SIGCONT) } }
}

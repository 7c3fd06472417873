import Glibc
import Reactor

/// Nonblocking pipe/socket transfers shared by the native and blocking forms of ``ExecOperation``.
enum ExecIO {
    /// Outcome of draining a descriptor.
    enum ReadOutcome {
        /// Nothing more right now.
        case drained
        /// End of file (or a read error): close the descriptor.
        case closed
    }

    /// Reads everything available from `fd` into `buffer` (keeping at most `limit` bytes; the rest is
    /// read and discarded so the child never blocks on a full pipe).
    static func readAvailable(_ fd: Int32, into buffer: inout [UInt8], limit: Int, truncated: inout Bool,
                              scratch: UnsafeMutableRawBufferPointer) -> ReadOutcome {
        while true {
            let result: IOResult<Int>
            do { result = try System.read(fd, into: scratch) } catch { return .closed }
            switch result {
            case .wouldBlock:
                return .drained
            case .processed(0):
                return .closed
            case .processed(let n):
                let room = limit - buffer.count
                if room >= n {
                    buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<n]))
                } else {
                    if room > 0 { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<room])) }
                    truncated = true
                }
                if n < scratch.count { return .drained }
            }
        }
    }

    /// Writes as much of `bytes[offset...]` as the socket takes (`MSG_NOSIGNAL`: no `SIGPIPE`).
    /// Returns `true` when the input is finished (all written, or the child closed its stdin).
    static func writeAvailable(_ fd: Int32, _ bytes: [UInt8], offset: inout Int) -> Bool {
        while offset < bytes.count {
            let result: IOResult<Int>
            do {
                result = try bytes.withUnsafeBytes { raw throws(IOError) in
                    try System.send(fd, UnsafeRawBufferPointer(rebasing: raw[offset...]))
                }
            } catch {
                return true  // EPIPE etc.: the child does not read its stdin
            }
            switch result {
            case .wouldBlock: return false
            case .processed(let n): offset += n
            }
        }
        return true
    }

    /// The result of a finished child: rc 1 for exit status 0, -1 otherwise, with
    /// `stdout`, `stderr` (strings) and `status` (exit code, 128+signal if killed) outputs.
    static func result(status: Int32?, stdout: [UInt8], stderr: [UInt8], rc: Int? = nil) -> AsyncResult {
        let code = status.map(ChildProcess.exitCode) ?? -1
        return AsyncResult(rc: rc ?? (code == 0 ? AsyncResult.rcSuccess : AsyncResult.rcError), outputs: [
            AsyncOutput("stdout", .string(String(decoding: stdout, as: UTF8.self))),
            AsyncOutput("stderr", .string(String(decoding: stderr, as: UTF8.self))),
            AsyncOutput("status", .int(code)),
        ])
    }

    static func close(_ fd: inout Int32) {
        if fd >= 0 { try? System.close(fd) }
        fd = -1
    }
}

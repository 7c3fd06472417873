import COpenSSL

/// Reads (and empties) this thread's OpenSSL error queue.
enum OpenSSLErrorQueue {
    /// OpenSSL's reason strings of the queued errors, oldest first, joined with "; ".
    static func drain() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let text = ERR_reason_error_string(code) {
                let reason = String(cString: text)
                if !reasons.contains(reason) { reasons.append(reason) }
            } else {
                reasons.append("error 0x\(String(code, radix: 16))")
            }
        }
        return reasons.joined(separator: "; ")
    }

    /// Empties the queue (before a call whose errors are read after it).
    static func clear() { ERR_clear_error() }
}

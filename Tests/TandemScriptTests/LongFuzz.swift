import Glibc

/// Settings of the long fuzz run that `Perf/fuzz.sh` starts (the suite's own fuzz tests are short and
/// fixed; these read the environment): `TANDEM_FUZZ_SECONDS` (unset: the long tests skip),
/// `TANDEM_FUZZ_SEED` (default 1) and `TANDEM_FUZZ_DIR` (where the current input and the summary go).
enum LongFuzz {
    static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
    static var seconds: Double? { env("TANDEM_FUZZ_SECONDS").flatMap(Double.init) }
    static var seed: UInt64 { env("TANDEM_FUZZ_SEED").flatMap { UInt64($0) } ?? 1 }
    static var directory: String { env("TANDEM_FUZZ_DIR") ?? "/tmp" }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Writes each input to a file before it is tried, so a crash leaves it behind.
    final class Recorder {
        let fd: Int32
        init(name: String) { fd = open(LongFuzz.directory + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        deinit { if fd >= 0 { close(fd) } }
        func record(_ bytes: [UInt8]) {
            guard fd >= 0 else { return }
            _ = ftruncate(fd, 0)
            _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    /// Appends "NAME seed=S inputs=N" to `$TANDEM_FUZZ_DIR/summary.txt`.
    static func report(name: String, inputs: Int) {
        let line = "\(name) seed=\(seed) inputs=\(inputs) seconds=\(seconds ?? 0)\n"
        let fd = open(directory + "/summary.txt", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        _ = line.utf8CString.withUnsafeBytes { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }
}

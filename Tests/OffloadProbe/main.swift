// offload-probe: runs blocking jobs on one offload lane in a process of its own and prints what it saw, so that
// OffloadTests can count the process's threads (/proc/self/task) without the other tests' threads.
//
// Usage: offload-probe LIMIT JOBS JOB_MS
// Prints one line: baseline=B peak_threads=P peak_running=R completed=C job_threads=D
//   B: threads before the first job; P: most threads seen while jobs ran (sampled by every job at its start
//   and end, and by the loop every millisecond); R: most jobs running at once; D: distinct threads that ran jobs.
import Glibc
import Reactor
import Synchronization
import TandemAsync

/// Number of entries of /proc/self/task (the process's threads).
func threadCount() -> Int {
    guard let dir = opendir("/proc/self/task") else { return -1 }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
    }
    return count
}

final class Figures: Sendable {
    let running = Atomic<Int>(0)
    let peakRunning = Atomic<Int>(0)
    let peakThreads = Atomic<Int>(0)
    let jobThreads = Mutex<Set<UInt>>([])

    func raise(_ peak: borrowing Atomic<Int>, to value: Int) {
        var seen = peak.load(ordering: .relaxed)
        while value > seen {
            let (done, original) = peak.compareExchange(expected: seen, desired: value, ordering: .relaxed)
            if done { break }
            seen = original
        }
    }
    func sample() { raise(peakThreads, to: threadCount()) }
}

final class ProbeJob: AsyncOperation {
    let driver = "probe"
    let supportedPaths: AsyncPaths = .blocking
    let figures: Figures
    let milliseconds: Int
    init(figures: Figures, milliseconds: Int) {
        self.figures = figures
        self.milliseconds = milliseconds
    }
    func makeBlocking(timeoutMs: UInt64) -> (@Sendable () -> AsyncResult)? {
        let figures = figures, ms = milliseconds
        return {
            let now = figures.running.add(1, ordering: .relaxed).newValue
            figures.raise(figures.peakRunning, to: now)
            figures.jobThreads.withLock { _ = $0.insert(pthread_self()) }
            figures.sample()
            usleep(useconds_t(ms * 1000))
            figures.sample()
            figures.running.subtract(1, ordering: .relaxed)
            return AsyncResult(rc: 1)
        }
    }
}

func probe() throws -> Int32 {
    let args = CommandLine.arguments
    guard args.count >= 4, let limit = Int(args[1]), let jobs = Int(args[2]), let jobMs = Int(args[3]) else {
        print("usage: offload-probe LIMIT JOBS JOB_MS")
        return 2
    }
    let reactor = try Reactor()
    let engine = AsyncEngine(configuration: AsyncEngineConfiguration(
        defaultTimeoutMs: 60_000,
        offload: OffloadPool.Configuration(limits: OffloadLimits(["probe": limit]), queueBounds: OffloadLimits(["probe": jobs]))))
    let worker = engine.makeWorker(reactor: reactor)
    let figures = Figures()
    let baseline = threadCount()
    var completed = 0  // completions run on this thread (the loop)
    for _ in 0..<jobs {
        worker.start(ProbeJob(figures: figures, milliseconds: jobMs), mode: .offload) { result in
            if result.rc == 1 { completed += 1 }
        }
    }
    let deadline = System.monotonicNanoseconds() + 60_000_000_000
    while worker.activeJobCount > 0 && System.monotonicNanoseconds() < deadline {
        try reactor.runOnce(timeoutMs: 1)
        figures.sample()
    }
    print("baseline=\(baseline) peak_threads=\(figures.peakThreads.load(ordering: .relaxed))",
          "peak_running=\(figures.peakRunning.load(ordering: .relaxed)) completed=\(completed)",
          "job_threads=\(figures.jobThreads.withLock { $0.count })")
    return 0
}

exit(try probe())


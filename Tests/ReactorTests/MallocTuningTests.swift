import Testing
@testable import Reactor

/// `System.tuneMallocForServer` (issue 19): sets glibc's malloc parameters unless the environment does.
@Suite struct MallocTuningTests {
    @Test func environmentTunablesWin() {
        let cases: [([String: String], Bool)] = [
            ([:], false),
            (["GLIBC_TUNABLES": "glibc.pthread.rseq=0"], false),
            (["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1048576"], true),
            (["MALLOC_ARENA_MAX": "2"], true),
            (["MALLOC_TOP_PAD_": "0"], true),
            (["MALLOC_TRIM_THRESHOLD_": "131072"], true),
            (["MALLOC_MMAP_THRESHOLD_": "131072"], true),
        ]
        for (environment, tuned) in cases {
            #expect(System.mallocTunedByEnvironment { environment[$0] } == tuned, "\(environment)")
        }
    }

    @Test func setsParametersOnlyWithoutEnvironmentTunables() {
        #expect(System.tuneMallocForServer(environment: { $0 == "MALLOC_ARENA_MAX" ? "1" : nil }) == false)
        #expect(System.tuneMallocForServer(environment: { _ in nil }))
        // Allocation still works with the parameters set (a block above the mmap threshold too).
        let big = [UInt8](repeating: 7, count: Int(System.mallocMmapThresholdBytes) * 2)
        #expect(big.count == 2 << 20 && big.last == 7)
    }
}

import Testing
@testable import TandemScript

@Suite struct BenchmarkTests {
    @Test func benchmarkRuns() throws {
        let r = try #require(ScriptBenchmark.run(iterations: 200))
        #expect(r.statementsPerRun > 10)
        #expect(r.nanosecondsPerStatement > 0)
    }

    @Test func checkReportListsMissing() {
        let r = check("loadmodule \"rtpengine.so\"\nroute { rtpengine_offer(); }", file: "r.cfg")
        #expect(r.report() == """
        r.cfg:1:12: module 'rtpengine' is not available in Tandem
        r.cfg:2:9: 'rtpengine_offer' is an OpenSIPS 3.6 function (module rtpengine) that Tandem does not support yet

        Not available in Tandem (2):
          line 1: module 'rtpengine'
          line 2: function 'rtpengine_offer'
        """)
    }
}

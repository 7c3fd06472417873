import Testing
@testable import TandemScript

@Suite struct BenchmarkTests {
    @Test func benchmarkRuns() throws {
        let r = try #require(ScriptBenchmark.run(iterations: 200))
        #expect(r.statementsPerRun > 10)
        #expect(r.nanosecondsPerStatement > 0)
    }

    @Test func checkReportListsMissing() {
        let r = check("loadmodule \"nathelper.so\"\nroute { fix_nated_register(); }", file: "r.cfg")
        #expect(r.report() == """
        r.cfg:1:12: module 'nathelper' is not available in Tandem
        r.cfg:2:9: 'fix_nated_register' is an OpenSIPS 3.6 function (module nathelper) that Tandem does not support yet

        Not available in Tandem (2):
          line 1: module 'nathelper'
          line 2: function 'fix_nated_register'
        """)
    }
}

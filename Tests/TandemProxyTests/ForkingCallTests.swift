import Foundation
import Glibc
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Parallel forking and the registrar over real UDP with SIPp (issue 16).
@Suite(.serialized, .exclusiveLoad, .enabled(if: SIPp.isAvailable, "sipp not installed"))
struct ForkingCallTests {
    static func forkRoutes(second port: UInt16) -> String {
        """
        route {
            if (has_totag()) {
                if (loose_route()) { t_relay(); exit; }
                sl_send_reply(404, "Not Here");
                exit;
            }
            record_route();
            append_branch("sip:service@127.0.0.1:\(port)");
            t_relay();
        }
        """
    }

    @Test("Parallel forking: one UAS busy (486), the other answers (200): 100 calls, 0 failed")
    func busyAndAnswer() throws {
        let busyPort = Ports.free()
        let okPort = Ports.free()
        let proxy = try ScriptedProxy(routes: Self.forkRoutes(second: okPort))
        let busy = try SIPp.uas("uas_486.xml", port: busyPort, controlPort: Ports.free(), extra: ["-m", "100"])
        let ok = try SIPp.uas("uas.xml", port: okPort, controlPort: Ports.free(), extra: ["-m", "100"])
        let uac = try SIPp.uac("uac.xml", target: "127.0.0.1:\(busyPort)", proxy: proxy.address, port: Ports.free(),
                               controlPort: Ports.free(), calls: 100, rate: 50)
        let client = uac.wait(seconds: 60)
        let busyStats = busy.wait(seconds: 30)
        let okStats = ok.wait(seconds: 30)
        #expect(client.successful == 100, "\(client.output)")
        #expect(client.failed == 0)
        #expect(busyStats.successful == 100, "\(busyStats.output)")
        #expect(okStats.successful == 100, "\(okStats.output)")
    }

    @Test("Parallel forking: both UASes busy: the best reply (486) reaches the caller, 100 calls")
    func bothBusy() throws {
        let firstPort = Ports.free()
        let secondPort = Ports.free()
        let proxy = try ScriptedProxy(routes: Self.forkRoutes(second: secondPort))
        let first = try SIPp.uas("uas_486.xml", port: firstPort, controlPort: Ports.free(), extra: ["-m", "100"])
        let second = try SIPp.uas("uas_486.xml", port: secondPort, controlPort: Ports.free(), extra: ["-m", "100"])
        let uac = try SIPp.uac("uac_busy.xml", target: "127.0.0.1:\(firstPort)", proxy: proxy.address,
                               port: Ports.free(), controlPort: Ports.free(), calls: 100, rate: 50)
        let client = uac.wait(seconds: 60)
        let firstStats = first.wait(seconds: 30)
        let secondStats = second.wait(seconds: 30)
        #expect(client.successful == 100, "\(client.output)")
        #expect(client.failed == 0)
        #expect(firstStats.successful == 100, "\(firstStats.output)")
        #expect(secondStats.successful == 100, "\(secondStats.output)")
    }

    @Test("SIPp REGISTER: 500 users register (200), are refused a 5 s expiry (423), unregister; none left")
    func registrations() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                if (is_method("REGISTER")) { save("location"); exit; }
                sl_send_reply(404, "Not Here");
            }
            """, globals: """
            loadmodule "registrar.so"
            loadmodule "usrloc.so"
            """)
        let host = proxy.address.split(separator: ":")
        let uac = try SIPp.Instance(arguments: [
            "-sf", SIPp.scenario("uac_register.xml"), proxy.address, "-i", "127.0.0.1", "-p", "\(Ports.free())",
            "-cp", "\(Ports.free())", "-m", "500", "-r", "100", "-timeout", "60s",
        ], label: "register-\(host.last ?? "")")
        let client = uac.wait(seconds: 60)
        #expect(client.successful == 500, "\(client.output)")
        #expect(client.failed == 0)
        #expect(proxy.core.location.contactCount == 0)
    }
}

import DNSResolver
import TandemAsync
import TandemScript

/// `dns_query(name, type, $out)` (Tandem): resolves `name` (type `A`, `AAAA`, `SRV` or `NAPTR`) with
/// the proxy's resolver and puts every record as text into `$out` (an `$avp` stacks them).
/// `$rc`: records (> 0), -2 none (NXDOMAIN/NODATA), -3 timeout, -1 error or unknown type.
enum DNSBinding: DriverBinding {
    static let drivers = ["dns"]
    static let functions = [
        FunctionBinding("dns_query", operation: { call, worker in
            guard let type = DNSQueryOperation.recordType(AsyncBindings.text(call.values, 1) ?? ""),
                  let name = AsyncBindings.text(call.values, 0), !name.isEmpty else {
                return UnavailableOperation(driver: "dns")
            }
            return DNSQueryOperation(question: DNSQuestion(name, type), environment: worker.settings.dns)
        }, deliver: { result, call, _, execution in
            AsyncBindings.assignList(result.output("records"), to: call.outputs(of: 2), in: &execution)
        }),
    ]
}

import CLDAP
import TandemAsync

/// Accumulates the entries of one search into the driver's outputs (native and blocking forms).
///
/// Outputs: `attr:NAME` (``LDAPSearchOperation/outputName(attribute:)``) per requested attribute — or per
/// attribute seen when none was requested — holding every value of every entry in entry order; `entries`
/// (`.int`); `error` (`.string`) on failure. rc (OpenSIPS ldap's table): entry count (> 0), -1 no entry,
/// -2 error. The engine adds -3 (timeout) and -4 (offload queue full).
struct LDAPResultCollector {
    /// OpenSIPS ldap: no entry found.
    static let rcNoEntry = -1
    /// OpenSIPS ldap: internal / server error.
    static let rcError = -2

    private let requested: [String]
    private var names: [String]
    private var values: [[String?]]
    private(set) var entries = 0

    init(attributes: [String]) {
        requested = attributes
        names = attributes
        values = Array(repeating: [], count: attributes.count)
    }

    /// Adds the values of one `LDAP_RES_SEARCH_ENTRY` message.
    mutating func add(entry: OpaquePointer, ld: OpaquePointer) {
        entries += 1
        if !requested.isEmpty {
            for index in requested.indices {
                append(values: ldap_get_values_len(ld, entry, requested[index]), at: index)
            }
            return
        }
        var ber: OpaquePointer?
        var attribute = ldap_first_attribute(ld, entry, &ber)
        while let name = attribute {
            let text = String(cString: name)
            let lowered = text.lowercased()
            let index: Int
            if let existing = names.firstIndex(where: { $0.lowercased() == lowered }) {
                index = existing
            } else {
                names.append(text)
                values.append([])
                index = names.count - 1
            }
            append(values: ldap_get_values_len(ld, entry, name), at: index)
            ldap_memfree(name)
            attribute = ldap_next_attribute(ld, entry, ber)
        }
        if let ber { ber_free(ber, 0) }
    }

    private mutating func append(values list: UnsafeMutablePointer<UnsafeMutablePointer<berval>?>?, at index: Int) {
        guard let list else { return }
        var position = 0
        while let value = list[position] {
            let length = Int(value.pointee.bv_len)
            if let bytes = value.pointee.bv_val, length > 0 {
                let buffer = UnsafeRawBufferPointer(start: bytes, count: length)
                values[index].append(String(decoding: buffer, as: UTF8.self))
            } else {
                values[index].append("")
            }
            position += 1
        }
        ldap_value_free_len(list)
    }

    /// The result after the final `LDAP_RES_SEARCH_RESULT` with `code` (an LDAP result code).
    func result(code: Int32, message: String? = nil) -> AsyncResult {
        let success = code == LDAP_SUCCESS || (entries > 0 && (code == LDAP_SIZELIMIT_EXCEEDED || code == LDAP_TIMELIMIT_EXCEEDED))
        var outputs: [AsyncOutput] = []
        outputs.reserveCapacity(names.count + 2)
        for index in names.indices {
            outputs.append(AsyncOutput(LDAPSearchOperation.outputName(attribute: names[index]), .list(values[index])))
        }
        outputs.append(AsyncOutput("entries", .int(entries)))
        guard success else {
            var text = String(cString: ldap_err2string(code))
            if let message, !message.isEmpty { text += ": " + message }
            outputs.append(AsyncOutput("error", .string(text)))
            outputs.append(AsyncOutput("ldap_rc", .int(Int(code))))
            return AsyncResult(rc: Self.rcError, outputs: outputs)
        }
        return AsyncResult(rc: entries > 0 ? entries : Self.rcNoEntry, outputs: outputs)
    }

    /// An error result that never reached the server (or lost its connection).
    static func errorResult(_ message: String) -> AsyncResult {
        AsyncResult(rc: rcError, outputs: [AsyncOutput("entries", .int(0)), AsyncOutput("error", .string(message)),
                                           AsyncOutput(LDAPSearchOperation.unreachableOutput, .int(1))])
    }
}

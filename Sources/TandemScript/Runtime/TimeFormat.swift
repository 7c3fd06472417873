#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `$time(format)` / `$Ts` / `$rand` helpers over libc.
enum TimeFormat {
    static func now() -> Int { Int(time(nil)) }

    static func format(_ fmt: String, at t: Int = now()) -> String {
        var tt = time_t(t)
        var parts = tm()
        localtime_r(&tt, &parts)
        var buf = [CChar](repeating: 0, count: 256)
        let n = strftime(&buf, buf.count, fmt, &parts)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func random() -> Int {
        #if canImport(Darwin)
        return Int(arc4random())
        #else
        return Int(Glibc.random())
        #endif
    }
}

import Testing
import TandemScript
@testable import TandemServer

/// What a suspended request's record holds (issue 19: memory per suspended transaction).
@Suite struct SuspensionFootprintTests {
    @Test func keptRequestIsCompact() {
        // Function id, arguments, outputs, continuation and resume route (its number in 32 bits): not
        // the name or the timeout (an `AsyncRequest` is 88 bytes).
        #expect(MemoryLayout<KeptAsyncRequest>.size <= 45)
    }

    #if os(Linux)
    @Test func suspensionFitsItsMallocChunk() {
        // The instance size a class's metadata records (after the kind, superclass and flags words
        // on a runtime without Objective-C interop); glibc rounds size + 8 up to 16.
        let size = Int(unsafeBitCast(RequestSuspension.self as AnyClass, to: UnsafeRawPointer.self)
            .load(fromByteOffset: 24, as: UInt32.self))
        print("RequestSuspension instance size: \(size)")
        #expect(size <= 312)
    }
    #endif
}

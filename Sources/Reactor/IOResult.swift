/// Outcome of a nonblocking I/O call: either it did something, or the kernel said "try again later"
/// (`EAGAIN`/`EWOULDBLOCK`). Real failures are thrown as ``IOError``.
public enum IOResult<T> {
    /// The call completed and produced a value (bytes transferred, a datagram, ...).
    case processed(T)
    /// The call would have blocked; wait for readiness and retry.
    case wouldBlock

    /// The processed value, or `nil` for `.wouldBlock`.
    @inlinable
    public var value: T? {
        if case .processed(let v) = self { return v }
        return nil
    }

    /// `true` for `.wouldBlock`.
    @inlinable
    public var isWouldBlock: Bool {
        if case .wouldBlock = self { return true }
        return false
    }
}

extension IOResult: Sendable where T: Sendable {}
extension IOResult: Equatable where T: Equatable {}

/// An object a reactor timer notifies instead of calling a closure
/// (``Reactor/schedule(afterMilliseconds:target:)``): the timer then costs no allocation beyond the
/// object, which the caller may reuse for its next timer. Called on the reactor's loop thread.
public protocol ReactorTimerTarget: AnyObject {
    /// The timer's deadline passed.
    func reactorTimerFired()
}

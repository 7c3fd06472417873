/// A reactor timer's callback as the timer queue stores it: a closure (kept in an enum payload, which
/// keeps its own representation, where a bare closure as the queue's generic payload would be wrapped
/// in a reabstraction thunk: an allocation per timer), or an object to notify.
enum TimerCallback {
    case closure(() -> Void)
    case target(any ReactorTimerTarget)

    func run() {
        switch self {
        case .closure(let body): body()
        case .target(let target): target.reactorTimerFired()
        }
    }
}

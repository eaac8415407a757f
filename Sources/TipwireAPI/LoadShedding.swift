import Hummingbird
import Metrics
import Synchronization
import TipwireStore

/// How the API sheds load (docs/operations.md, "Load shedding"): at most `maxInFlight` requests are
/// worked on at once, and a request may wait `bound` in all before its work starts: at most half of it
/// for its turn, and what is left of it to start its database work. Past either wait it answers 503 with
/// `Retry-After`, nothing written, instead of queueing for seconds behind the others.
public struct LoadShedding: Sendable, Hashable {
    public var bound: Duration
    public var maxInFlight: Int

    public init(bound: Duration = .milliseconds(500), maxInFlight: Int = 32) {
        self.bound = bound
        self.maxInFlight = max(1, maxInFlight)
    }

    public static let `default` = LoadShedding()
}

/// Applies `LoadShedding` to every request but `/healthz` and `/metrics` (so an overloaded instance still
/// reports on itself), and counts each shed request in `tipwire_http_requests_shed_total`.
struct LoadSheddingMiddleware<Context: RequestContext>: RouterMiddleware {
    let shedding: LoadShedding?
    let gate: AdmissionGate?
    private let shed = Counter(label: "tipwire_http_requests_shed_total")

    init(_ shedding: LoadShedding?) {
        self.shedding = shedding
        gate = shedding.map { AdmissionGate(limit: $0.maxInFlight) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let shedding, let gate, !["/healthz", "/metrics"].contains(request.uri.path) else { return try await next(request, context) }
        let arrived = ContinuousClock.now
        guard await gate.enter(within: shedding.bound / 2) else {
            shed.increment()
            throw Problem.overloaded
        }
        defer { gate.leave() }
        let left = max(shedding.bound - arrived.duration(to: .now), .milliseconds(1))
        do {
            return try await DatabaseAdmission.bounded(by: left) { try await next(request, context) }
        } catch  where StoreFailure(error).map(\.isOverload) == true {
            shed.increment()
            throw Problem.overloaded
        }
    }
}

/// At most `limit` holders at once; the others wait in arrival order, each for a bounded time.
public final class AdmissionGate: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
        /// Turns the waiter away when its bound passes; cancelled when it gets in first.
        var timer: Task<Void, Never>?
    }

    private struct State {
        var inside = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    public let limit: Int
    private let state = Mutex(State())

    public init(limit: Int) { self.limit = max(1, limit) }

    /// True once the caller may go in (it must then `leave`), false if no place freed within `bound`.
    public func enter(within bound: Duration) async -> Bool {
        let id: UInt64? = state.withLock { state in
            if state.inside < limit {
                state.inside += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return true }
        return await withCheckedContinuation { continuation in
            state.withLock { $0.waiters.append(Waiter(id: id, continuation: continuation)) }
            let timer = Task {
                guard (try? await Task.sleep(for: bound)) != nil else { return }
                let expired = self.state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                expired?.continuation.resume(returning: false)
            }
            let admitted = state.withLock { state -> Bool in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return true }
                state.waiters[index].timer = timer
                return false
            }
            if admitted { timer.cancel() }
        }
    }

    /// Frees the caller's place, handing it straight to the longest waiter if there is one.
    public func leave() {
        let next = state.withLock { state -> Waiter? in
            if state.waiters.isEmpty {
                state.inside -= 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.timer?.cancel()
        next?.continuation.resume(returning: true)
    }
}

extension StoreFailure {
    var isOverload: Bool {
        if case .overloaded = self { true } else { false }
    }
}

extension Problem {
    static let overloaded = Problem(
        .serviceUnavailable, "overloaded", title: "Too busy",
        detail: "the service is busier than it can answer in time; nothing was written. Retry after the indicated delay.",
        headers: [.retryAfter: "1"])
}

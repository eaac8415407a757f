import Hummingbird
import Logging
import NIOCore

/// Reads and discards what a handler left of the request body once it has its answer, so an early
/// refusal (401, 413, 415, …) reaches a client that writes its whole body before it reads (Python's
/// urllib, curl): otherwise the server stops reading, the client's writes block on a full TCP window,
/// and neither side moves. Up to `bound` bytes are discarded; past that the connection is closed
/// rather than read for ever. Applies to every route, whichever refused the body.
struct UnreadBodyMiddleware: RouterMiddleware {
    typealias Context = TipwireRequestContext

    /// The most bytes of an unread body read and thrown away before closing the connection instead.
    let bound: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length == 0 { return try await next(request, context) }
        let reader = BodyReader(request.body)
        var tracked = request
        tracked.body = RequestBody(asyncSequence: reader)
        let response: Response
        do {
            response = try await next(tracked, context)
        } catch {
            await discardRest(of: reader, context: context)
            throw error
        }
        await discardRest(of: reader, context: context)
        return response
    }

    private func discardRest(of reader: BodyReader, context: Context) async {
        switch await reader.discardRest(upTo: bound) {
        case .finished: return
        case .overBound, .failed:
            context.logger.info("closing the connection: the unread request body runs past \(bound) bytes or failed")
            context.channel.close(promise: nil)
        }
    }
}

/// A request body read once, by the handler and then by `UnreadBodyMiddleware` for the rest. The two
/// never read at the same time: the middleware reads only after the handler has returned, which is
/// why the unchecked `Sendable` holds.
final class BodyReader: AsyncSequence, @unchecked Sendable {
    typealias Element = ByteBuffer

    enum Rest { case finished, overBound, failed }

    private let body: RequestBody
    private var iterator: RequestBody.AsyncIterator?
    private var finished = false

    init(_ body: RequestBody) { self.body = body }

    func next() async throws -> ByteBuffer? {
        if finished { return nil }
        var current = iterator ?? body.makeAsyncIterator()
        defer { iterator = current }
        guard let chunk = try await current.next() else {
            finished = true
            return nil
        }
        return chunk
    }

    /// Reads what is left, up to `bound` bytes.
    func discardRest(upTo bound: Int) async -> Rest {
        var discarded = 0
        do {
            while let chunk = try await next() {
                discarded += chunk.readableBytes
                if discarded > bound { return .overBound }
            }
            return .finished
        } catch {
            return .failed
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let reader: BodyReader
        func next() async throws -> ByteBuffer? { try await reader.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: self) }
}

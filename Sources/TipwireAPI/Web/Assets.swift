import Foundation
import HTTPTypes
import Hummingbird
import TipwirePages

/// The pages' one script (`Scripts.seal`), for anyone: it holds no secret, and the pages that load it
/// pin its hash. Revalidated on every use (`no-cache` with its ETag), so a new release's script is never
/// refused by a page for a stale copy.
struct Assets: Sendable {
    var handlers: [String: WebRoutes.Handler] { ["GET /assets/seal.js": seal] }

    @Sendable func seal(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let etag = "\"\(Scripts.sealIntegrity)\""
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.cacheControl] = "no-cache"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        if request.headers[.ifNoneMatch] == etag { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = "text/javascript; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Scripts.seal)))
    }
}

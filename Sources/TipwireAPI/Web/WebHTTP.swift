import Foundation
import HTTPTypes
import Hummingbird
import TipwireCore

/// The web pages' HTTP plumbing: the reader's language, cookies, form bodies, safe redirects and the
/// headers every page is sent with.
enum Web {
    static let sessionCookie = "tipwire_session"
    static let languageCookie = "tipwire_lang"
    static let signInCookie = "tipwire_signin"

    /// The language asked for by `lang`, else the remembered one; throws on a `lang` that is neither.
    static func language(_ request: Request) throws -> Language {
        if let asked = request.uri.queryParameters.get("lang") {
            guard let language = Language(rawValue: asked) else { throw PageFailure(status: .badRequest, title: "400", detail: "lang: vi | en") }
            return language
        }
        return cookieLanguage(request)
    }

    static func cookieLanguage(_ request: Request) -> Language {
        request.cookies[languageCookie].flatMap { Language(rawValue: $0.value) } ?? .vietnamese
    }

    static func languageCookie(_ language: Language, _ request: Request) -> Cookie {
        cookie(languageCookie, language.rawValue, request, maxAge: 365 * 86_400, httpOnly: false)
    }

    /// A cookie for the whole site: HttpOnly (but the language), SameSite=Strict, Secure over TLS.
    static func cookie(_ name: String, _ value: String, _ request: Request, maxAge: Int, httpOnly: Bool = true) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: isTLS(request), httpOnly: httpOnly, sameSite: .strict)
    }

    /// Served over TLS: directly, or behind a proxy that says so.
    static func isTLS(_ request: Request) -> Bool {
        request.uri.scheme == .https || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// An `application/x-www-form-urlencoded` body of at most 16 KiB, as names and values (a name given
    /// twice is refused).
    static func form(_ request: Request) async throws -> [String: String] {
        let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard type == "application/x-www-form-urlencoded" else {
            throw PageFailure(status: .unsupportedMediaType, title: "415", detail: "application/x-www-form-urlencoded")
        }
        let bytes: [UInt8]
        do { bytes = try await HTTP.body(request, limit: 16 * 1024) } catch {
            throw PageFailure(status: .contentTooLarge, title: "413", detail: "16 KiB")
        }
        do {
            return try URLEncodedFormDecoder().decode([String: String].self, from: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw PageFailure(status: .badRequest, title: "400", detail: "application/x-www-form-urlencoded")
        }
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~/"))) ?? "/dashboard"
    }

    /// Where to go after signing in: one of our pages only, never another site nor the sign-in itself.
    static func safeNext(_ next: String?, home: String) -> String {
        guard let next, WebRoutes.prefixes.contains(where: { next == $0 || next.hasPrefix($0 + "/") || next.hasPrefix($0 + "?") }),
            !next.hasPrefix("//"), !next.contains("\\"), !next.contains("\r"), !next.contains("\n"), !next.hasPrefix("/dashboard/sign-")
        else { return home }
        return next
    }

    /// The request's path and query without `lang`, for the language links.
    static func pathWithoutLanguage(_ request: Request) -> String {
        let kept = (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("lang=") && !$0.hasPrefix("done=") }
        return request.uri.path + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }

    /// Compares form tokens in time independent of where they differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    static func html(_ status: HTTPResponse.Status, _ page: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}

import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// A `multipart/form-data` body (a page's form with files), read from the request as it arrives with
/// MultipartKit's parser: its text fields, and its files, each refused past `maxFileSize` and the whole
/// past `maxFiles` files, before the rest is read.
struct MultipartForm {
    struct File {
        var field: String
        var filename: String
        var contentType: String?
        var bytes: [UInt8]
    }

    enum Failure: Error, Equatable {
        case notMultipart
        case malformed
        case fileTooLarge(field: String, limit: Int)
        case fieldTooLarge(field: String, limit: Int)
        case tooManyFiles(limit: Int)
    }

    var fields: [String: String] = [:]
    var files: [File] = []

    /// The files sent in `field`, in order (a file input left empty sends none).
    func files(_ field: String) -> [File] { files.filter { $0.field == field } }

    static let maxFieldSize = 64 * 1024

    static func read(_ request: Request, maxFileSize: Int, maxFiles: Int) async throws(Failure) -> MultipartForm {
        guard let type = request.headers[.contentType], let boundary = boundary(type) else { throw .notMultipart }
        let collector = Collector(maxFileSize: maxFileSize, maxFiles: maxFiles)
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.header(name, value) }
        parser.onBody = { buffer in collector.body(&buffer) }
        parser.onPartComplete = { collector.complete() }
        do {
            for try await chunk in request.body {
                try parser.execute(chunk)
                if let failure = collector.failure { throw failure }
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .malformed
        }
        if let failure = collector.failure { throw failure }
        return collector.form
    }

    /// The boundary of a `multipart/form-data` content type: 1 to 70 characters, as RFC 2046 allows.
    static func boundary(_ contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            guard (1...70).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
            return value
        }
        return nil
    }

    /// `name` and `filename` of a part's `Content-Disposition: form-data; name="…"; filename="…"`.
    static func disposition(_ value: String) -> (name: String?, filename: String?) {
        var name: String?
        var filename: String?
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            let unquoted = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
            switch pair[0].lowercased() {
            case "name": name = unquoted
            case "filename": filename = unquoted
            default: break
            }
        }
        return (name, filename)
    }

    /// The parser's callbacks gather the parts here; used by one task, the reader's.
    private final class Collector {
        let maxFileSize: Int
        let maxFiles: Int
        var form = MultipartForm()
        var failure: Failure?
        var headers: [String: String] = [:]
        var bytes: [UInt8] = []

        init(maxFileSize: Int, maxFiles: Int) {
            self.maxFileSize = maxFileSize
            self.maxFiles = maxFiles
        }

        func header(_ name: String, _ value: String) { headers[name.lowercased()] = value }

        func body(_ buffer: inout ByteBuffer) {
            guard failure == nil else { return }
            let (name, filename) = MultipartForm.disposition(headers["content-disposition"] ?? "")
            let limit = filename == nil ? MultipartForm.maxFieldSize : maxFileSize
            if bytes.count + buffer.readableBytes > limit {
                let field = name ?? "?"
                failure = filename == nil ? .fieldTooLarge(field: field, limit: limit) : .fileTooLarge(field: field, limit: limit)
                return
            }
            bytes += buffer.readableBytesView
        }

        func complete() {
            defer {
                headers = [:]
                bytes = []
            }
            guard failure == nil else { return }
            let (name, filename) = MultipartForm.disposition(headers["content-disposition"] ?? "")
            guard let name else {
                failure = .malformed
                return
            }
            if let filename {
                // A file input left empty sends a part with no file name and no bytes.
                if filename.isEmpty && bytes.isEmpty { return }
                guard form.files.count < maxFiles else {
                    failure = .tooManyFiles(limit: maxFiles)
                    return
                }
                form.files.append(File(field: name, filename: filename, contentType: headers["content-type"], bytes: bytes))
            } else if form.fields[name] == nil {
                form.fields[name] = String(decoding: bytes, as: UTF8.self)
            }
        }
    }
}

import Foundation

/// Recognises a document's media type from its first bytes, so the type served never depends on what the uploader claimed.
public enum MediaTypeSniffer {
    private static let signatures: [(prefix: [UInt8], type: String)] = [
        (Array("%PDF-".utf8), "application/pdf"),
        ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "image/png"),
        ([0xFF, 0xD8, 0xFF], "image/jpeg"),
        (Array("GIF87a".utf8), "image/gif"),
        (Array("GIF89a".utf8), "image/gif"),
        ([0x49, 0x49, 0x2A, 0x00], "image/tiff"),
        ([0x4D, 0x4D, 0x00, 0x2A], "image/tiff"),
        (Array("PK\u{03}\u{04}".utf8), "application/zip"),
        ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], "application/x-ole-storage"),
        ([0x1F, 0x8B], "application/gzip"),
        (Array("ID3".utf8), "audio/mpeg"),
        (Array("OggS".utf8), "audio/ogg"),
        (Array("{\\rtf".utf8), "application/rtf"),
    ]

    /// The sniffed type; `declared` (the request's Content-Type) refines a ZIP container
    /// into an Office document, and text is told apart from binary by checking UTF-8.
    public static func sniff(_ bytes: some Collection<UInt8>, declared: String? = nil) -> String {
        let head = Array(bytes.prefix(512))
        if head.count >= 12, head[0..<4] == [0x52, 0x49, 0x46, 0x46], head[8..<12] == Array("WEBP".utf8)[...] { return "image/webp" }
        if head.count >= 12, head[4..<8] == Array("ftyp".utf8)[...] { return "video/mp4" }
        for signature in signatures where head.starts(with: signature.prefix) {
            if signature.type == "application/zip", let declared = declared.map(essence), isToken(declared),
                declared.hasPrefix("application/vnd.openxmlformats-officedocument.") || declared.hasPrefix("application/vnd.oasis.opendocument.")
            {
                return declared
            }
            return signature.type
        }
        if bytes.isEmpty { return "application/octet-stream" }
        if isText(bytes) {
            let start = String(decoding: head.prefix(256), as: UTF8.self).drop(while: \.isWhitespace).lowercased()
            if start.hasPrefix("<!doctype html") || start.hasPrefix("<html") { return "text/html; charset=utf-8" }
            if start.hasPrefix("<?xml") { return "application/xml" }
            if start.hasPrefix("{") || start.hasPrefix("["), let declared = declared.map(essence), declared == "application/json" {
                return "application/json"
            }
            if let declared = declared.map(essence), declared == "text/csv" { return "text/csv; charset=utf-8" }
            return "text/plain; charset=utf-8"
        }
        return "application/octet-stream"
    }

    /// A declared type tipwire may store: at most 127 characters of letters, digits and `.+-/`
    /// (RFC 6838's restricted names), so a client's header never becomes an oversized or odd value.
    static func isToken(_ type: String) -> Bool {
        type.utf8.count <= 127
            && type.utf8.allSatisfy { byte in
                (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/")
            }
    }

    /// `Text/Plain; charset=x` → `text/plain`.
    public static func essence(_ mediaType: String) -> String {
        String(mediaType.split(separator: ";", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Valid UTF-8 with no control bytes other than whitespace.
    private static func isText(_ bytes: some Collection<UInt8>) -> Bool {
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\r" && scalar != "\t" && scalar != "\u{0C}" { return false }
                if scalar.value == 0x7F { return false }
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}

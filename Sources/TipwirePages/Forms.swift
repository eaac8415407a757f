import Foundation
import TipwireCore

/// A field of a page's form: the name it is sent under (the API's JSON field it fills), how it is
/// entered, and whether it must be filled. Its label is the wording `field-<name>`, its help
/// `field-<name>-help` when there is one.
public struct FormField: Sendable {
    public enum Entry: Sendable {
        case text, textarea, number, date, datetime, url
        /// One item per line (a list in the API).
        case lines
        /// One of these values, each with its label.
        case choice([(value: String, label: String)])
        /// A file input; `multiple` takes several.
        case file(multiple: Bool, accept: String?)
        /// Source details sealed in the page to the newsroom's current key (`Scripts.seal`): the details'
        /// box has no name, so the browser never sends it; the field sends the envelope. Hidden until the
        /// script shows it, so without a script the page offers only the envelope file.
        case sealed(newsroom: String, keyID: String, publicKey: String)
    }

    public var name: String
    public var entry: Entry
    public var required: Bool
    /// The wording key of the label, when it is not `field-<name>`.
    public var label: String?
    /// The help text, when it is not the wording `field-<name>-help` (a limit worked out at run time).
    public var help: String?

    public init(_ name: String, _ entry: Entry, required: Bool, label: String? = nil, help: String? = nil) {
        self.name = name
        self.entry = entry
        self.required = required
        self.label = label
        self.help = help
    }

    var isFile: Bool {
        if case .file = entry { true } else { false }
    }

    var isSealed: Bool {
        if case .sealed = entry { true } else { false }
    }
}

/// A form as it was sent, to show again beside its errors: which form (its id on the page), what was
/// entered, and field name → what is wrong with it (`""` for the form as a whole).
public struct FormAttempt: Sendable {
    public var form: String
    public var values: [String: String]
    public var errors: [String: String]

    public init(form: String, values: [String: String], errors: [String: String]) {
        self.form = form
        self.values = values
        self.errors = errors
    }
}

/// One form on a page: where it posts, its heading, its fields, and its own idempotency key, so a form
/// sent twice (a double click, back and send again) acts once.
public struct PageForm: Sendable {
    public var id: String
    public var action: String
    public var label: String
    public var fields: [FormField]
    public var key: String

    public init(id: String, action: String, label: String, fields: [FormField], key: String = UUID().uuidString.lowercased()) {
        self.id = id
        self.action = action
        self.label = label
        self.fields = fields
        self.key = key
    }
}

extension Pages {
    /// The `form` partial's values for `form`. A form with a file is sent as multipart, which the server
    /// reads as it streams, so its CSRF token rides in the action instead of a hidden field.
    static func formValues(_ form: PageForm, reader: Reader, attempt: FormAttempt?) -> [String: Any] {
        let sent = attempt?.form == form.id ? attempt : nil
        let multipart = form.fields.contains(where: \.isFile)
        let separator = form.action.contains("?") ? "&" : "?"
        return [
            "id": form.id, "label": form.label, "key": form.key, "multipart": multipart,
            "action": multipart ? "\(form.action)\(separator)csrf=\(reader.csrf)" : form.action,
            "formError": sent?.errors[""] as Any,
            "fields": fieldValues(form.fields, prefix: form.id, attempt: sent, reader.wording),
        ]
    }

    /// The `fields` partial's values: each field's id, label, entry, value sent before, error and help.
    static func fieldValues(_ fields: [FormField], prefix: String, attempt: FormAttempt?, _ w: Wording) -> [[String: Any]] {
        fields.map { field in
            let id = "\(prefix)-\(field.name)"
            let helpKey = "field-\(field.name)-help"
            let help = field.help ?? (Wording.texts[helpKey] == nil ? nil : w[helpKey])
            let error = attempt?.errors[field.name]
            let describedBy = [help.map { _ in "\(id)-help" }, error.map { _ in "\(id)-error" }].compactMap { $0 }.joined(separator: " ")
            var entry: [String: Any] = [
                "id": id, "name": field.name, "label": w[field.label ?? "field-\(field.name)"], "required": field.required,
                "value": attempt?.values[field.name] ?? "", "error": error as Any, "help": help as Any,
                "describedBy": (describedBy.isEmpty ? nil : describedBy) as Any,
            ]
            switch field.entry {
            case .text: entry["text"] = true
            case .textarea, .lines: entry["textarea"] = true
            case .number: entry["number"] = true
            case .date: entry["date"] = true
            case .datetime: entry["datetime"] = true
            case .url: entry["url"] = true
            case .choice(let options):
                entry["select"] = true
                entry["options"] = options.map { value, label in
                    ["value": value, "label": label, "selected": attempt?.values[field.name] == value] as [String: Any]
                }
            case .file(let multiple, let accept):
                entry["file"] = true
                entry["multiple"] = multiple
                entry["accept"] = accept as Any
            case .sealed(let newsroom, let keyID, let publicKey):
                entry["sealed"] = ["newsroom": newsroom, "keyID": keyID, "publicKey": publicKey]
            }
            return entry
        }
    }

    /// A size limit as a form's help and a refusal name it: "25 MiB", or "256 KiB" below a mebibyte.
    public static func limitText(_ bytes: Int) -> String {
        bytes >= 1_048_576 ? "\(bytes / 1_048_576) MiB" : "\(bytes / 1024) KiB"
    }

    /// A choice among `values`, each labelled by the wording `<prefix>-<value>`, after a blank "— Choose —"
    /// when the choice is required (so none is made for the reader).
    public static func choices(_ values: [String], labels prefix: String?, blank: String?, _ w: Wording) -> FormField.Entry {
        .choice((blank.map { [("", w[$0])] } ?? []) + values.map { value in (value, prefix.map { w["\($0)-\(value)"] } ?? value) })
    }
}

import Foundation
import TipwireCore
import TipwireStore

/// One row of a page's facts: a label, its value, a link when the value leads somewhere, and whether it
/// is late (marked "Overdue").
public struct Fact: Sendable {
    public var label: String
    public var value: String
    public var href: String?
    public var late: Bool

    public init(_ label: String, _ value: String, href: String? = nil, late: Bool = false) {
        self.label = label
        self.value = value
        self.href = href
        self.late = late
    }

    var values: [String: Any] { ["label": label, "value": value, "href": href as Any, "late": late] }
}

/// One row of a list page: its cells (the first links to the record) and whether it is late.
public struct ListRow: Sendable {
    public var href: String
    public var cells: [String]
    public var late: Bool

    public init(href: String, cells: [String], late: Bool = false) {
        self.href = href
        self.cells = cells
        self.late = late
    }
}

extension Pages {
    /// A list of records as a table: `columns` head it, each row's first cell links to its record,
    /// `links` (e.g. "File a request") come first, then rows of filters (each link's label, and whether
    /// it is the one shown).
    func listPage(
        reader: Reader, title: String, caption: String, empty: String, columns: [String], rows: [ListRow], links: [(href: String, label: String)],
        filters: [[(href: String, label: String, current: Bool)]] = [], next: String?, notice: String?
    ) -> String {
        render(
            "list", title: title, reader: reader, notice: notice,
            [
                "links": links.map { ["href": $0.href, "label": $0.label] }, "caption": caption, "empty": empty, "hasRows": !rows.isEmpty,
                "filters": filters.map { row in ["items": row.map { ["href": $0.href, "label": $0.label, "current": $0.current] as [String: Any] }] },
                "columns": columns,
                "rows": rows.map { row in
                    [
                        "href": row.href, "first": row.cells.first ?? "", "rest": Array(row.cells.dropFirst()), "late": row.late,
                    ] as [String: Any]
                },
                "next": next as Any,
            ])
    }

    /// One record: its facts, its longer texts under their headings, its downloads, and the forms the
    /// reader may send about it now.
    func recordPage(
        reader: Reader, title: String, facts: [Fact], texts: [(heading: String, text: String)], downloads: [(href: String, label: String)],
        forms: [PageForm], attempt: FormAttempt?, notice: String?
    ) -> String {
        render(
            "record", title: title, reader: reader, notice: notice,
            [
                "facts": facts.map(\.values),
                "texts": texts.enumerated().map { index, text in ["id": "text-\(index)", "heading": text.heading, "text": text.text] },
                "downloads": downloads.map { ["href": $0.href, "label": $0.label] }, "hasDownloads": !downloads.isEmpty,
                "forms": forms.map { Self.formValues($0, reader: reader, attempt: attempt) }, "hasForms": !forms.isEmpty,
            ])
    }

    /// A page that is one form (filing a request, opening a case, submitting a finding).
    public func formPage(reader: Reader, title: String, intro: String?, form: PageForm, attempt: FormAttempt?) -> String {
        let script: [String: String]? = form.fields.contains(where: \.isSealed) ? ["src": Scripts.sealPath, "integrity": Scripts.sealIntegrity] : nil
        return render(
            "form-page", title: title, reader: reader,
            ["intro": intro as Any, "form": Self.formValues(form, reader: reader, attempt: attempt), "script": script as Any])
    }
}

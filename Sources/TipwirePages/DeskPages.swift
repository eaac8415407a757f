import Foundation
import TipwireCore
import TipwireStore

/// The submission form as the liaison sent it, to show again beside its errors.
public struct SubmissionAttempt: Sendable {
    public var values: [String: String]
    /// Field name → what is wrong with it; `""` for the form as a whole.
    public var errors: [String: String]

    public init(values: [String: String], errors: [String: String]) {
        self.values = values
        self.errors = errors
    }
}

extension Pages {
    /// The newsroom's findings, newest first; `accounted` filters them (nil: all).
    public func desk(reader: Reader, page: Page<FindingView>, accounted: Bool?, notice: String?) -> String {
        let w = reader.wording
        let rows: [[String: Any]] = page.items.map { view in
            let open = view.tasks.filter { !TaskView.terminalStates.contains($0.state) }.count
            return [
                "href": "/desk/findings/\(view.finding.id)", "title": view.finding.title, "received": w.dateTime(view.finding.receivedAt),
                "tasks": "\(w.integer(view.tasks.count)) (\(w["open-tasks-count"]) \(w.integer(open)))",
                "accounted": w[view.accountedFor ? "accounted-yes" : "accounted-no"],
            ]
        }
        let filter = accounted.map { $0 ? "accounted" : "open" }
        return render(
            "desk", title: w["desk"], reader: reader, notice: notice,
            [
                "findings": rows, "hasFindings": !rows.isEmpty,
                "filters": [("", "all"), ("open", "findings-open"), ("accounted", "findings-accounted-only")].map { value, key in
                    ["href": value.isEmpty ? "/desk" : "/desk?state=\(value)", "label": w[key], "current": (filter ?? "") == value] as [String: Any]
                },
                "next": Self.nextPage("/desk", filters: ["state": filter], cursor: page.nextCursor) as Any,
            ])
    }

    /// One finding of the newsroom's: its facts, documents, and each task as the newsroom may see it, with
    /// its due time and timeline.
    public func deskFinding(reader: Reader, view: FindingView, tasks: [TaskDetail], notice: String?) -> String {
        let w = reader.wording
        let finding = view.finding
        let rows: [[String: Any]] = tasks.map { detail in
            let task = detail.task
            let due = task.due.map { Self.dueText($0, w) }
            return [
                "id": task.id, "agency": task.agency.rawValue, "state": w["state-\(task.state)"], "due": due as Any,
                "outcome": task.outcome.map { w["outcome-\($0.rawValue)"] } as Any,
                "events": detail.events.map { event in
                    ["at": w.dateTime(event.at), "kind": w["event-\(event.kind)"], "actor": event.actor] as [String: Any]
                },
            ]
        }
        return render(
            "desk-finding", title: finding.title, reader: reader, notice: notice,
            [
                "received": w.dateTime(finding.receivedAt), "published": w.dateTime(finding.publishedAt), "category": finding.category,
                "jurisdiction": finding.jurisdiction.rawValue, "articleURL": finding.articleURL, "summary": finding.summary,
                "subject": finding.subjectAgency?.rawValue as Any, "sourceHandle": view.sourceHandle as Any,
                "documents": view.documents.map { ["id": $0.id, "type": $0.mediaType, "size": w.integer($0.size)] as [String: Any] },
                "hasDocuments": !view.documents.isEmpty, "tasks": rows, "hasTasks": !rows.isEmpty,
                "accounted": w[view.accountedFor ? "accounted-yes" : "accounted-no"],
            ])
    }

    /// The form that submits a finding with its documents and, optionally, its sealed source details.
    public func deskSubmit(reader: Reader, choices: SubmissionChoices, maxDocumentBytes: Int, formKey: String, attempt: SubmissionAttempt?) -> String
    {
        let w = reader.wording
        let values = attempt?.values ?? [:]
        let errors = attempt?.errors ?? [:]
        func field(_ name: String, kind: String, required: Bool, options: [(String, String)] = []) -> [String: Any] {
            let help: String? = Wording.texts["field-\(name)-help"] == nil ? nil : w["field-\(name)-help"]
            var entry: [String: Any] = [
                "id": "submit-\(name)", "name": name, "label": w[name == "summary" ? "field-finding_summary" : "field-\(name)"], "required": required,
                "value": values[name] ?? "",
                "error": errors[name] as Any, "help": help as Any, kind: true,
            ]
            if !options.isEmpty {
                entry["options"] = options.map { value, label in ["value": value, "label": label, "selected": values[name] == value] as [String: Any]
                }
            }
            return entry
        }
        let size = maxDocumentBytes >= 1_048_576 ? "\(maxDocumentBytes / 1_048_576) MiB" : "\(maxDocumentBytes / 1024) KiB"
        return render(
            "desk-submit", title: w["submit-finding"], reader: reader,
            [
                "formError": errors[""] as Any, "formKey": formKey, "limit": w["documents-limit"].replacingOccurrences(of: "{size}", with: size),
                "fields": [
                    field("title", kind: "text", required: true), field("article_url", kind: "url", required: true),
                    field("published_at", kind: "datetime", required: true), field("summary", kind: "textarea", required: true),
                    field("category", kind: "select", required: true, options: [("", w["choose"])] + choices.categories.map { ($0, $0) }),
                    field(
                        "jurisdiction", kind: "select", required: true,
                        options: [("", w["choose"])] + choices.jurisdictions.map { ($0.rawValue, $0.rawValue) }),
                    field(
                        "subject_agency", kind: "select", required: false,
                        options: [("", w["none"])] + choices.agencies.map { ($0.rawValue, $0.rawValue) }),
                ],
                "documentsError": errors["documents"] as Any, "envelopeError": errors["source_envelope"] as Any,
            ])
    }
}

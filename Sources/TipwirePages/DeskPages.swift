import Foundation
import TipwireCore
import TipwireStore

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
    public func deskFinding(reader: Reader, view: FindingView, tasks: [TaskDetail], forms: [PageForm], attempt: FormAttempt?, notice: String?)
        -> String
    {
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
                "documents": view.documents.map {
                    ["href": "/desk/documents/\($0.id)", "id": $0.id, "type": $0.mediaType, "size": w.integer($0.size)] as [String: Any]
                },
                "forms": forms.map { Self.formValues($0, reader: reader, attempt: attempt) }, "hasForms": !forms.isEmpty,
                "hasDocuments": !view.documents.isEmpty, "tasks": rows, "hasTasks": !rows.isEmpty,
                "accounted": w[view.accountedFor ? "accounted-yes" : "accounted-no"],
            ])
    }

    /// The form that submits a finding with its documents and, optionally, its sealed source details.
    public func deskSubmit(
        reader: Reader, choices: SubmissionChoices, maxDocumentBytes: Int, sealing: (newsroom: String, keyID: String, publicKey: String)?,
        formKey: String, attempt: FormAttempt?
    ) -> String {
        let w = reader.wording
        let size = Pages.limitText(maxDocumentBytes)
        let fields =
            [
                FormField("title", .text, required: true), FormField("article_url", .url, required: true),
                FormField("published_at", .datetime, required: true), FormField("summary", .textarea, required: true, label: "field-finding_summary"),
                FormField("category", Self.choices(choices.categories, labels: nil, blank: "choose", w), required: true),
                FormField("jurisdiction", Self.choices(choices.jurisdictions.map(\.rawValue), labels: nil, blank: "choose", w), required: true),
                FormField("subject_agency", Self.choices(choices.agencies.map(\.rawValue), labels: nil, blank: "none", w), required: false),
                FormField(
                    "documents", .file(multiple: true, accept: nil), required: false,
                    help: w["documents-limit"].replacingOccurrences(of: "{size}", with: size)),
                FormField("source_envelope", .file(multiple: false, accept: "application/json,.json"), required: false),
            ]
            + (sealing.map {
                [FormField("source_envelope_sealed", .sealed(newsroom: $0.newsroom, keyID: $0.keyID, publicKey: $0.publicKey), required: false)]
            } ?? [])
        return formPage(
            reader: reader, title: w["submit-finding"], intro: nil,
            form: PageForm(id: "submit", action: "/desk/findings", label: w["submit-finding"], fields: fields, key: formKey), attempt: attempt)
    }
}

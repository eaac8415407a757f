import Foundation
import TipwireCore
import TipwireStore

extension Pages {
    /// Information requests both ways, as the desk (`base` "/desk") or the inbox ("/inbox") lists them:
    /// the ones in `direction`, those in `state` (nil: all), the oldest open first.
    public func requests(
        reader: Reader, base: String, page: Page<InfoRequestView>, direction: RequestDirection, state: String?, notice: String?
    ) -> String {
        let w = reader.wording
        let ours: RequestDirection = reader.agency == nil ? .toNewsroom : .toAgency
        let rows = page.items.map { view in
            ListRow(
                href: "\(base)/requests/\(view.id)",
                cells: [
                    view.findingTitle, Self.otherSide(view, reader: reader), w.dateTime(view.createdAt), w["request-\(view.state)"],
                    view.state == "open" ? w.dateTime(view.dueAt) : view.answeredAt.map(w.dateTime) ?? "–",
                ], late: view.state == "open" && view.dueAt < Date())
        }
        let tabs = [ours, ours == .toNewsroom ? .toAgency : .toNewsroom].map { tab in
            (
                href: "\(base)/requests?direction=\(tab.rawValue)", label: w[tab == ours ? "requests-to-us" : "requests-ours"],
                current: tab == direction
            )
        }
        let states = [nil, "open", "answered", "declined"].map { value in
            (
                href: "\(base)/requests?direction=\(direction.rawValue)" + (value.map { "&state=\($0)" } ?? ""),
                label: value.map { w["request-\($0)"] } ?? w["all"], current: value == state
            )
        }
        return listPage(
            reader: reader, title: w["requests"], caption: w[direction == ours ? "requests-to-us" : "requests-ours"], empty: w["no-requests"],
            columns: [w["finding"], w["party"], w["asked-at"], w["state"], w["due-or-answered"]], rows: rows, links: [], filters: [tabs, states],
            next: Self.nextPage("\(base)/requests", filters: ["direction": direction.rawValue, "state": state], cursor: page.nextCursor),
            notice: notice)
    }

    /// One information request: who asked whom what, by when, its answer with its documents, and the
    /// forms that answer or decline it while it is open and the reader is the side asked.
    public func request(reader: Reader, base: String, view: InfoRequestView, forms: [PageForm], attempt: FormAttempt?, notice: String?) -> String {
        let w = reader.wording
        var facts = [
            Fact(
                w["finding"], view.findingTitle, href: reader.agency == nil ? "/desk/findings/\(view.findingID)" : "/inbox/tasks/\(view.taskID)"),
            Fact(w["party"], Self.otherSide(view, reader: reader)), Fact(w["asked-at"], w.dateTime(view.createdAt)),
            Fact(w["state"], w["request-\(view.state)"]),
            Fact(w["due"], w.dateTime(view.dueAt), late: view.state == "open" && view.dueAt < Date()),
        ]
        if let answered = view.answeredAt { facts.append(Fact(w["answered-at"], w.dateTime(answered))) }
        var texts = [(heading: w["field-questions"], text: view.questions)]
        if !view.documentsWanted.isEmpty { texts.append((w["field-documents_wanted"], view.documentsWanted.joined(separator: "\n"))) }
        if let answer = view.answer { texts.append((w[view.state == "declined" ? "field-reason" : "field-answer"], answer)) }
        return recordPage(
            reader: reader, title: w[view.direction == .toNewsroom ? "request-to-newsroom" : "request-to-agency"], facts: facts, texts: texts,
            downloads: view.answerDocuments.map { document in
                (
                    href: "\(base)/documents/\(document.id)",
                    label: "\(w["download"]) \(document.id) (\(document.mediaType), \(w.integer(document.size)) \(w["bytes"]))"
                )
            }, forms: forms, attempt: attempt, notice: notice)
    }

    /// The party across a request from the reader: the agency for a newsroom, the newsroom for an agency.
    static func otherSide(_ view: InfoRequestView, reader: Reader) -> String {
        reader.agency == nil ? view.agency.rawValue : view.newsroom.rawValue
    }
}

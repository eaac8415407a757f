import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// Disclosure requests from pages (docs/desk-and-inbox.md): an agency (the procuracy, a court, the
/// police, as the legal bases allow) files one with its signed letter; the newsroom reads it, downloads
/// the letter and decides (comply, refuse or contest) with a reason. Both go through `DisclosureStore`,
/// as `POST /v1/disclosure-requests` and its decision do; only the two sides ever see a request.
struct DisclosurePages: Sendable {
    let stores: TipwireStores
    let pages: Pages

    var handlers: [String: WebRoutes.Handler] {
        [
            "GET /desk/disclosures": list, "GET /desk/disclosures/{id}": show, "GET /desk/disclosures/{id}/letter": letter,
            "POST /desk/disclosures/{id}/decision": decide,
            "GET /inbox/disclosures": list, "GET /inbox/disclosures/new": new, "POST /inbox/disclosures": file,
            "GET /inbox/disclosures/{id}": show, "GET /inbox/disclosures/{id}/letter": letter,
        ]
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let cursor = try Web.cursor(request, visit)
        let page = try await stores.disclosures.list(for: visit.session.principal, after: cursor, limit: 50)
        let notice = Web.notice(request, visit)
        return Web.html(
            .ok, pages.disclosures(reader: visit.reader, base: RequestPages.base(visit), page: page, canFile: visit.agency != nil, notice: notice))
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let notice = Web.notice(request, visit)
        return try await page(try Web.id(context, visit), visit: visit, attempt: nil, status: .ok, notice: notice)
    }

    func page(_ id: UUID, visit: WebVisit, attempt: FormAttempt?, status: HTTPResponse.Status, notice: String? = nil) async throws -> Response {
        let w = visit.reader.wording
        guard let view = try await stores.disclosures.view(id, for: visit.session.principal) else {
            throw PageFailure.notFound(w)
        }
        var forms: [PageForm] = []
        if view.state == "open", visit.agency == nil {
            forms.append(
                PageForm(
                    id: "decide", action: "/desk/disclosures/\(view.id)/decision", label: w["decide-disclosure"],
                    fields: [
                        FormField(
                            "decision", Pages.choices(DisclosureDecision.allCases.map(\.rawValue), labels: "decision", blank: "choose", w),
                            required: true),
                        FormField("reason", .textarea, required: true),
                    ]))
        }
        return Web.html(
            status, pages.disclosure(reader: visit.reader, base: RequestPages.base(visit), view: view, forms: forms, attempt: attempt, notice: notice)
        )
    }

    @Sendable func letter(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let w = visit.reader.wording
        guard let (bytes, mediaType) = try await stores.disclosures.writtenRequest(try Web.id(context, visit), for: visit.session.principal) else {
            throw PageFailure.notFound(w)
        }
        return DisclosuresController.letter(bytes, mediaType: mediaType)
    }

    @Sendable func decide(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let w = visit.reader.wording
        let id = try Web.id(context, visit)
        guard let newsroom = visit.session.principal.newsroom else {
            throw PageFailure.notFound(w)
        }
        let form = FormBody(fields: visit.form)
        let values = form.fields.filter { ["decision", "reason"].contains($0.key) }
        let decision: DisclosureDecision
        let reason: String
        do {
            (decision, reason) = try DisclosureDecision.parse(.object(values.mapValues(JSONValue.string)))
        } catch {
            return try await page(
                id, visit: visit,
                attempt: FormAttempt(form: "decide", values: values, errors: FormVerdict.errors(error).merging(["": w["form-errors"]]) { $1 }),
                status: .unprocessableContent)
        }
        let verdict: @Sendable (DisclosureDecisionOutcome) -> FormVerdict = { outcome in
            switch outcome {
            case .decided: .done("/desk/disclosures/\(id.lowercased)?done=1")
            case .notFound: .notFound
            case .alreadyDecided(let view): .refused(.conflict, ["": "\(w["already-decided"]) (\(w["disclosure-\(view.state)"]))"])
            }
        }
        let result = try await stores.disclosures.decide(
            id, newsroom: newsroom, decision: decision, reason: reason, actor: visit.session.principal.actor,
            idempotency: Web.idempotency(form.claim(visit, path: "POST /desk/disclosures/\(id.lowercased)/decision"), verdict: verdict))
        if case .answered(_, .decided(let view)) = result {
            context.logger.notice(
                "disclosure request decided from a page", metadata: ["disclosure_request": "\(view.id)", "decision": "\(decision.rawValue)"])
        }
        return try await Web.answer(result, wording: w, verdict: verdict) { status, errors in
            try await page(id, visit: visit, attempt: FormAttempt(form: "decide", values: values, errors: errors), status: status)
        }
    }

    /// The form that files a disclosure request, with the legal bases in force to choose from.
    func filingForm(_ visit: WebVisit, key: String = UUID().uuidString.lowercased()) async throws -> PageForm {
        let w = visit.reader.wording
        let bases = try await stores.database.legalBasisCodes()
        let size = Pages.limitText(DisclosureSubmission.maximumWrittenRequest)
        return PageForm(
            id: "file", action: "/inbox/disclosures", label: w["file-disclosure"],
            fields: [
                FormField("source_handle", .text, required: true),
                FormField("legal_basis", Pages.choices(bases, labels: nil, blank: "choose", w), required: true),
                FormField("crime_class", Pages.choices(CrimeClass.allCases.map(\.rawValue), labels: "crime", blank: "choose", w), required: true),
                FormField("case_reference", .text, required: true), FormField("dated", .date, required: true),
                FormField(
                    "written_request", .file(multiple: false, accept: "application/pdf,image/*"), required: true,
                    help: w["field-written_request-help"].replacingOccurrences(of: "{size}", with: size)),
            ], key: key)
    }

    @Sendable func new(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        return Web.html(
            .ok,
            pages.formPage(
                reader: visit.reader, title: visit.reader.wording["file-disclosure"], intro: visit.reader.wording["file-disclosure-intro"],
                form: try await filingForm(visit), attempt: nil))
    }

    @Sendable func file(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let w = visit.reader.wording
        guard let agency = visit.agency else { throw PageFailure.notFound(w) }
        let form = try await FormBody.read(request, visit: visit, maxFileSize: DisclosureSubmission.maximumWrittenRequest, maxFiles: 1)
        let values = form.fields.filter { DisclosureSubmission.fields.contains($0.key) }
        func again(_ status: HTTPResponse.Status, _ errors: [String: String]) async throws -> Response {
            let page = pages.formPage(
                reader: visit.reader, title: w["file-disclosure"], intro: w["file-disclosure-intro"], form: try await filingForm(visit),
                attempt: FormAttempt(form: "file", values: values, errors: errors))
            return Web.html(status, page)
        }
        var object = values.mapValues(JSONValue.string)
        if let letter = form.files("written_request").first {
            object["written_request"] = .object([
                "media_type": .string(letter.contentType ?? "application/octet-stream"), "content": .string(Data(letter.bytes).base64EncodedString()),
            ])
        }
        let submission: DisclosureSubmission
        do {
            submission = try DisclosureSubmission.parse(.object(object), today: WorkingCalendar.dayOf(Date()))
        } catch {
            return try await again(.unprocessableContent, FormVerdict.errors(error).merging(["": w["form-errors"]]) { $1 })
        }
        let verdict: @Sendable (DisclosureFiling) -> FormVerdict = { outcome in
            switch outcome {
            case .filed(let view): .done("/inbox/disclosures/\(view.id)?done=1")
            case .notQualified(let reason): .refused(.forbidden, ["legal_basis": reason])
            case .unknownBasis(let codes): .refused(.unprocessableContent, ["legal_basis": codes.joined(separator: ", ")])
            case .noSuchSource: .refused(.unprocessableContent, ["source_handle": w["no-such-source"]])
            }
        }
        let result = try await stores.disclosures.file(
            submission, by: agency, actor: visit.session.principal.actor,
            idempotency: Web.idempotency(form.claim(visit, path: "POST /inbox/disclosures"), verdict: verdict))
        if case .answered(_, .filed(let view)) = result {
            context.logger.notice(
                "disclosure request filed from a page",
                metadata: ["disclosure_request": "\(view.id)", "agency": "\(agency)", "newsroom": "\(view.newsroom)"])
        }
        return try await Web.answer(result, wording: w, verdict: verdict, again: again)
    }
}

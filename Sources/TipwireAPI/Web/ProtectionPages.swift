import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// Protection cases from pages (docs/desk-and-inbox.md): the newsroom opens one for a threatened source
/// or journalist and follows it; the protecting agency (the police where the rules say so) acknowledges
/// it within its 24-hour clock and resolves it. Both go through `ProtectionStore`, as
/// `POST /v1/protection-cases` and its steps do.
struct ProtectionPages: Sendable {
    let stores: TipwireStores
    let pages: Pages

    var handlers: [String: WebRoutes.Handler] {
        [
            "GET /desk/protection": list, "GET /desk/protection/new": new, "POST /desk/protection": open, "GET /desk/protection/{id}": show,
            "GET /inbox/protection": list, "GET /inbox/protection/{id}": show, "POST /inbox/protection/{id}/{step}": step,
        ]
    }

    static func scope(_ visit: WebVisit) throws -> FindingScope {
        guard let scope = FindingScope(visit.session.principal) else {
            throw PageFailure(status: .forbidden, title: "403", detail: visit.reader.wording["not-found-text"])
        }
        return scope
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let page = try await stores.protection.list(for: try Self.scope(visit), after: try Web.cursor(request, visit), limit: 50)
        let notice = Web.notice(request, visit)
        return Web.html(
            .ok, pages.protectionCases(reader: visit.reader, base: RequestPages.base(visit), page: page, canOpen: visit.agency == nil, notice: notice)
        )
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let notice = Web.notice(request, visit)
        return try await page(try Web.id(context, visit), visit: visit, attempt: nil, status: .ok, notice: notice)
    }

    func page(_ id: UUID, visit: WebVisit, attempt: FormAttempt?, status: HTTPResponse.Status, notice: String? = nil) async throws -> Response {
        let w = visit.reader.wording
        guard let view = try await stores.protection.view(id, for: try Self.scope(visit)) else {
            throw PageFailure.notFound(w)
        }
        var forms: [PageForm] = []
        if let agency = visit.agency, view.protectingAgency == agency.rawValue {
            if view.state == "open" {
                forms.append(
                    PageForm(id: "acknowledge", action: "/inbox/protection/\(view.id)/acknowledge", label: w["protection-acknowledge"], fields: []))
            } else if view.state == "acknowledged" {
                forms.append(
                    PageForm(
                        id: "resolve", action: "/inbox/protection/\(view.id)/resolve", label: w["protection-resolve"],
                        fields: [
                            FormField(
                                "outcome",
                                Pages.choices(ProtectionOutcome.allCases.map(\.rawValue), labels: "protection-outcome", blank: "choose", w),
                                required: true),
                            FormField("note", .textarea, required: true),
                        ]))
            }
        }
        return Web.html(
            status,
            pages.protectionCase(reader: visit.reader, base: RequestPages.base(visit), view: view, forms: forms, attempt: attempt, notice: notice))
    }

    /// The verdict on a case's command: done goes to the case's page under `base`.
    static func verdict(base: String) -> @Sendable (ProtectionOutcomeResult) -> FormVerdict {
        { outcome in
            switch outcome {
            case .done(let view): .done("\(base)/protection/\(view.id)?done=1")
            case .notFound: .notFound
            case .rejected(let failure): .invalid(failure)
            case .conflict(let detail): .refused(.conflict, ["": detail])
            }
        }
    }

    @Sendable func step(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let w = visit.reader.wording
        let id = try Web.id(context, visit)
        let name = context.parameters.get("step") ?? ""
        guard let agency = visit.agency, name == "acknowledge" || name == "resolve" else {
            throw PageFailure.notFound(w)
        }
        let form = FormBody(fields: visit.form)
        let values = form.fields.filter { ["outcome", "note"].contains($0.key) }
        let verdict = Self.verdict(base: "/inbox")
        let idempotency: Idempotency<ProtectionOutcomeResult> = Web.idempotency(
            form.claim(visit, path: "POST /inbox/protection/\(id.lowercased)/\(name)"), verdict: verdict)
        let actor = visit.session.principal.actor
        let result: Idempotent<ProtectionOutcomeResult>
        if name == "acknowledge" {
            result = try await stores.protection.acknowledge(id, by: agency, actor: actor, idempotency: idempotency)
        } else {
            let outcome: ProtectionOutcome
            let note: String
            do {
                (outcome, note) = try ProtectionSubmission.parseResolution(.object(values.mapValues(JSONValue.string)))
            } catch {
                return try await page(
                    id, visit: visit,
                    attempt: FormAttempt(form: name, values: values, errors: FormVerdict.errors(error).merging(["": w["form-errors"]]) { $1 }),
                    status: .unprocessableContent)
            }
            result = try await stores.protection.resolve(id, by: agency, outcome: outcome, note: note, actor: actor, idempotency: idempotency)
        }
        return try await Web.answer(result, wording: w, verdict: verdict) { status, errors in
            try await page(id, visit: visit, attempt: FormAttempt(form: name, values: values, errors: errors), status: status)
        }
    }

    /// The form that opens a case: who is threatened, how, where, the finding it follows (optional), and
    /// sealed details as an envelope file (optional).
    func openingForm(_ visit: WebVisit) async throws -> PageForm {
        let w = visit.reader.wording
        let choices = try await stores.database.submissionChoices()
        let findings = try await stores.findings.list(FindingFilter(limit: 50), for: visit.session.principal)
        return PageForm(
            id: "open", action: "/desk/protection", label: w["open-protection"],
            fields: [
                FormField("person", Pages.choices(ProtectedPerson.allCases.map(\.rawValue), labels: "person", blank: "choose", w), required: true),
                FormField(
                    "retaliation", Pages.choices(Retaliation.allCases.map(\.rawValue), labels: "retaliation", blank: "choose", w), required: true),
                FormField("jurisdiction", Pages.choices(choices.jurisdictions.map(\.rawValue), labels: nil, blank: "choose", w), required: true),
                FormField("finding_id", .choice([("", w["none"])] + findings.items.map { ($0.finding.id, $0.finding.title) }), required: false),
                FormField("details_envelope", .file(multiple: false, accept: "application/json,.json"), required: false),
            ])
    }

    @Sendable func new(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let w = visit.reader.wording
        return Web.html(
            .ok,
            pages.formPage(
                reader: visit.reader, title: w["open-protection"], intro: w["open-protection-intro"], form: try await openingForm(visit), attempt: nil
            ))
    }

    @Sendable func open(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let w = visit.reader.wording
        let form = try await FormBody.read(request, visit: visit, maxFileSize: 256 * 1024, maxFiles: 1)
        let values = form.fields.filter { ProtectionSubmission.fields.contains($0.key) && !$0.value.isEmpty }
        func again(_ status: HTTPResponse.Status, _ errors: [String: String]) async throws -> Response {
            let page = pages.formPage(
                reader: visit.reader, title: w["open-protection"], intro: w["open-protection-intro"], form: try await openingForm(visit),
                attempt: FormAttempt(form: "open", values: values, errors: errors))
            return Web.html(status, page)
        }
        var object = values.mapValues(JSONValue.string)
        if let envelope = form.files("details_envelope").first {
            guard let sealed = try? JSONDecoder().decode(JSONValue.self, from: Data(envelope.bytes)) else {
                return try await again(.unprocessableContent, ["": w["form-errors"], "details_envelope": w["envelope-not-json"]])
            }
            object["details_envelope"] = sealed
        }
        let submission: ProtectionSubmission
        do {
            submission = try ProtectionSubmission.parse(.object(object))
        } catch {
            return try await again(.unprocessableContent, FormVerdict.errors(error).merging(["": w["form-errors"]]) { $1 })
        }
        let verdict = Self.verdict(base: "/desk")
        let result = try await stores.protection.open(
            submission, by: try Self.scope(visit), actor: visit.session.principal.actor,
            idempotency: Web.idempotency(form.claim(visit, path: "POST /desk/protection"), verdict: verdict))
        if case .answered(_, .done(let view)) = result {
            context.logger.notice(
                "protection case opened from a page", metadata: ["protection_case": "\(view.id)", "protecting_agency": "\(view.protectingAgency)"])
        }
        return try await Web.answer(result, wording: w, verdict: verdict, again: again)
    }
}

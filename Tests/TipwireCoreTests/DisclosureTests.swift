import Foundation
import Testing
import TipwireCore

@Suite("Disclosure requests: legal bases, submissions, decisions")
struct DisclosureTests {
    static func day(_ text: String) -> CalendarDay { CalendarDay(text)! }
    static func agency(_ code: String, _ kind: String, _ level: GovernmentLevel) -> AgencyStanding {
        AgencyStanding(code: PartyCode(rawValue: code)!, kind: kind, level: level)
    }

    /// As migration 0013 seeds them.
    static let pressLaw2016 = LegalBasis(
        code: "press-law-2016", citation: "Press Law 2016", requesterKinds: ["procuracy", "court"], minimumLevel: .provincial,
        crimeClasses: [.verySerious, .especiallySerious], inForceFrom: day("2017-01-01"), inForceUntil: day("2026-07-01"))
    static let pressLaw2025 = LegalBasis(
        code: "press-law-2025", citation: "Press Law 2025", requesterKinds: ["procuracy", "court", "police"], minimumLevel: .provincial,
        crimeClasses: [.verySerious, .especiallySerious], inForceFrom: day("2026-07-01"), inForceUntil: nil)

    static let procuracy = agency("vks-tp", "procuracy", .provincial)
    static let police = agency("cong-an-tp", "police", .provincial)
    static let department = agency("so-nnmt", "department", .provincial)
    static let wardProcuracy = agency("vks-cau-giay", "procuracy", .commune)
    static let supremeCourt = agency("tand-toi-cao", "court", .central)

    @Test(arguments: [
        // The 2016 law: provincial procurators and judges or higher, very or especially serious crimes, until 1 July 2026.
        (pressLaw2016, procuracy, CrimeClass.verySerious, "2026-06-15", nil),
        (pressLaw2016, supremeCourt, .especiallySerious, "2020-03-01", nil),
        (pressLaw2016, police, .verySerious, "2026-06-15", "is a provincial-level police"),
        (pressLaw2016, department, .verySerious, "2026-06-15", "is a provincial-level department"),
        (pressLaw2016, wardProcuracy, .verySerious, "2026-06-15", "is a commune-level procuracy"),
        (pressLaw2016, procuracy, .serious, "2026-06-15", "not serious"),
        (pressLaw2016, procuracy, .verySerious, "2026-07-01", "not in force on 2026-07-01"),
        (pressLaw2016, procuracy, .verySerious, "2016-12-31", "not in force on 2016-12-31"),
        // The 2025 amendment adds heads of investigation agencies, from 1 July 2026.
        (pressLaw2025, police, .verySerious, "2026-07-01", nil),
        (pressLaw2025, police, .verySerious, "2026-06-30", "not in force on 2026-06-30"),
        (pressLaw2025, procuracy, .especiallySerious, "2026-12-01", nil),
        (pressLaw2025, department, .especiallySerious, "2026-12-01", "so-nnmt is a provincial-level department"),
        (pressLaw2025, police, .lessSerious, "2026-12-01", "not less-serious"),
    ])
    func whoMayAskIsDecidedByTheBasisInForceOnTheRequestsDate(
        basis: LegalBasis, requester: AgencyStanding, crimeClass: CrimeClass, dated: String, refusal: String?
    ) {
        let reason = basis.refusal(for: requester, crimeClass: crimeClass, dated: Self.day(dated))
        if let refusal {
            #expect(reason?.contains(refusal) == true, "\(reason ?? "allowed")")
        } else {
            #expect(reason == nil, "\(reason ?? "")")
        }
    }

    static func body(_ overrides: [String: JSONValue] = [:]) -> JSONValue {
        var fields: [String: JSONValue] = [
            "source_handle": .string(SourceHandle().rawValue), "legal_basis": .string("press-law-2025"), "crime_class": .string("very-serious"),
            "case_reference": .string("Vụ án 12/2026/HS"), "dated": .string("2026-11-30"),
            "written_request": .object([
                "media_type": .string("application/pdf"), "content": .string(Data("%PDF-1.7 signed".utf8).base64EncodedString()),
            ]),
        ]
        for (key, value) in overrides { fields[key] = value }
        return .object(fields)
    }

    @Test func aWellFormedRequestParses() throws {
        let submission = try DisclosureSubmission.parse(Self.body(), today: Self.day("2026-12-01"))
        #expect(submission.crimeClass == .verySerious && submission.dated == Self.day("2026-11-30"))
        #expect(submission.writtenRequest == Array("%PDF-1.7 signed".utf8) && submission.writtenRequestType == "application/pdf")
    }

    @Test(arguments: [
        (["crime_class": JSONValue.string("grave")], "crime_class"),
        (["dated": .string("2026-12-02")], "dated"),
        (["dated": .string("30/11/2026")], "dated"),
        (["case_reference": .string("")], "case_reference"),
        (["written_request": .null], "written_request"),
        (["written_request": .object(["content": .string("not base64!")])], "written_request.content"),
        (["written_request": .object(["content": .string("")])], "written_request.content"),
        (["written_request": .string("a letter")], "written_request"),
        (["source": .string("Nguyễn Văn A")], "source"),
    ])
    func aBadFieldIsNamed(overrides: [String: JSONValue], field: String) throws {
        let failure = try #require(throws: ValidationFailure.self) {
            try DisclosureSubmission.parse(Self.body(overrides), today: Self.day("2026-12-01"))
        }
        #expect(failure.errors.map(\.field) == [field], "\(failure)")
    }

    @Test func aDecisionNeedsOneOfThreeAnswersAndAReason() throws {
        let (decision, reason) = try DisclosureDecision.parse(.object(["decision": .string("contest"), "reason": .string("Không đủ căn cứ")]))
        #expect(decision == .contest && decision.state == "contested" && reason == "Không đủ căn cứ")
        #expect(throws: ValidationFailure.self) { try DisclosureDecision.parse(.object(["decision": .string("disclose"), "reason": .string("x")])) }
        #expect(throws: ValidationFailure.self) { try DisclosureDecision.parse(.object(["decision": .string("refuse")])) }
    }

    @Test func anUndecidedRequestClimbsTheLadderRungByRung() {
        let calendar = WorkingCalendar()
        let start = Self.day("2026-11-02").start.addingTimeInterval(9 * 3600)  // a Monday, 09:00 in Hà Nội
        let clock = DutyClock(policy: .default(for: .disclosureDecision), start: start, calendar: calendar)
        #expect(clock.rungsReached(by: start, calendar: calendar).isEmpty)
        // Just before each rung's time the ladder holds the rungs before it; at its time, that rung too.
        for index in EscalationLadder.rungs.indices {
            guard let at = clock.time(ofRung: index, calendar: calendar) else {
                Issue.record("rung \(index) has no time")
                continue
            }
            #expect(clock.rungsReached(by: at.addingTimeInterval(-1), calendar: calendar).map(\.rung.index) == Array(0..<index))
            #expect(clock.rungsReached(by: at, calendar: calendar).map(\.rung.index) == Array(0...index))
        }
        #expect(clock.dueAt > start.addingTimeInterval(5 * 86_400), "5 working days from a Monday end on the next Monday or later")
    }
}

@Suite("Protection cases: routing, parsing, figures")
struct ProtectionTests {
    static func code(_ text: String) -> PartyCode { PartyCode(rawValue: text)! }

    @Test func theNearestJurisdictionsRuleChoosesTheProtectorAndTheCoordinatorTakesTheRest() {
        let rules = [Self.code("ha-noi"): Self.code("cong-an-tp"), Self.code("dong-da"): Self.code("cong-an-dong-da")]
        let coordinator = Self.code("thanh-tra-tp")
        #expect(
            ProtectionRouting.protector(lineage: [Self.code("cau-giay"), Self.code("ha-noi")], rules: rules, fallback: coordinator)
                == Self.code("cong-an-tp"))
        #expect(
            ProtectionRouting.protector(lineage: [Self.code("dong-da"), Self.code("ha-noi")], rules: rules, fallback: coordinator)
                == Self.code("cong-an-dong-da"))
        #expect(ProtectionRouting.protector(lineage: [Self.code("hue")], rules: rules, fallback: coordinator) == coordinator)
    }

    @Test func anOpeningNamesEveryBadField() throws {
        let value = JSONValue.object([
            "person": .string("witness"), "retaliation": .string("fired"), "jurisdiction": .string("Cầu Giấy"), "finding_id": .string("x"),
            "details_envelope": .object(["version": .number(1)]), "name": .string("Nguyễn Văn A"),
        ])
        let failure = try #require(throws: ValidationFailure.self) { try ProtectionSubmission.parse(value) }
        let fields = Set(failure.errors.map(\.field))
        #expect(fields.isSuperset(of: ["person", "retaliation", "jurisdiction", "finding_id", "details_envelope.newsroom", "name"]), "\(failure)")
        let (outcome, note) = try ProtectionSubmission.parseResolution(
            .object(["outcome": .string("not-protected"), "note": .string("Không liên lạc được")]))
        #expect(outcome == .notProtected && note == "Không liên lạc được")
        #expect(throws: ValidationFailure.self) { try ProtectionSubmission.parseResolution(.object(["outcome": .string("protected")])) }
    }

    @Test func theFigureCountsProtectedInTimeAgainstEveryCaseOpened() throws {
        #expect(
            ProtectionFigure(opened: 0, open: 0, acknowledgedInTime: 0, protected: 0, protectedInTime: 0, overdue: 0).protectedInTimePercent == 100)
        let figure = ProtectionFigure(opened: 3, open: 1, acknowledgedInTime: 2, protected: 2, protectedInTime: 1, overdue: 1)
        #expect(figure.protectedInTimePercent == 33.3)
        let json = String(decoding: try TipwireJSON.encode(figure), as: UTF8.self)
        #expect(json.contains(#""protected_in_time_percent":33.3"#), "\(json)")
    }
}

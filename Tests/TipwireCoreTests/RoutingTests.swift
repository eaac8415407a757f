import Testing
import TipwireCore

@Suite("Routing")
struct RoutingTests {
    static func code(_ text: String) -> PartyCode { PartyCode(rawValue: text)! }

    static let table = RoutingTable(
        rules: [
            RoutingRule(category: "land", jurisdiction: code("ha-noi"), target: .agency(code("so-nnmt"))),
            RoutingRule(category: "land", jurisdiction: code("cau-giay"), target: .agency(code("ubnd-cau-giay"))),
            RoutingRule(category: "procurement", jurisdiction: nil, target: .agency(code("thanh-tra-tp"))),
            RoutingRule(category: nil, jurisdiction: nil, target: .subjectSupervisor),
            RoutingRule(category: "land", jurisdiction: nil, target: .agency(code("so-nnmt"))),
        ],
        agencies: [
            AgencyNode(code: code("thanh-tra-tp"), isCoordinator: true),
            AgencyNode(code: code("so-nnmt"), parent: code("thanh-tra-tp")),
            AgencyNode(code: code("ubnd-cau-giay"), parent: code("thanh-tra-tp")),
            AgencyNode(code: code("ubnd-dong-da"), parent: code("thanh-tra-tp")),
        ])

    static func route(_ category: String, _ jurisdictions: [String], subject: String? = nil) throws -> [RoutedAgency] {
        try table.route(category: category, jurisdictions: jurisdictions.map(code), subjectAgency: subject.map(code))
    }

    @Test func cityWideAndWardRulesBothApplyInRuleOrderWithoutRepeats() throws {
        #expect(
            try Self.route("land", ["cau-giay", "ha-noi"]) == [
                RoutedAgency(Self.code("so-nnmt"), .rule), RoutedAgency(Self.code("ubnd-cau-giay"), .rule),
            ])
    }

    @Test func aWardWithoutItsOwnRuleGetsTheCityWideOne() throws {
        #expect(try Self.route("land", ["dong-da", "ha-noi"]) == [RoutedAgency(Self.code("so-nnmt"), .rule)])
    }

    @Test func theSubjectsSupervisorIsAddedWhereARuleSaysSo() throws {
        #expect(
            try Self.route("health", ["dong-da", "ha-noi"], subject: "ubnd-dong-da") == [
                RoutedAgency(Self.code("thanh-tra-tp"), .subjectSupervisor)
            ])
    }

    @Test func aFindingNamingTheCoordinatorWithoutASupervisorCannotBeRoutedToIt() {
        #expect(throws: RoutingError.onlyTheSubject(Self.code("thanh-tra-tp"))) {
            try Self.route("health", ["dong-da"], subject: "thanh-tra-tp")
        }
    }

    @Test func theAccusedAgencyNeverReceivesTheFindingItsSupervisorAndTheCoordinatorDo() throws {
        // The ward's own rule names the accused ward: it is skipped, and the City Inspectorate (its
        // supervisor and the coordinator) takes the finding with the reason recorded.
        #expect(
            try Self.route("land", ["cau-giay", "ha-noi"], subject: "ubnd-cau-giay") == [
                RoutedAgency(Self.code("so-nnmt"), .rule), RoutedAgency(Self.code("thanh-tra-tp"), .conflictOfInterest),
            ])
        // A department accused of a procurement finding routed to it by name.
        let table = RoutingTable(
            rules: [RoutingRule(category: "land", jurisdiction: nil, target: .agency(Self.code("so-nnmt")))],
            agencies: [
                AgencyNode(code: Self.code("thanh-tra-tp"), isCoordinator: true), AgencyNode(code: Self.code("ubnd-tp"), parent: nil),
                AgencyNode(code: Self.code("so-nnmt"), parent: Self.code("ubnd-tp")),
            ])
        #expect(
            try table.route(category: "land", jurisdictions: [Self.code("ha-noi")], subjectAgency: Self.code("so-nnmt")) == [
                RoutedAgency(Self.code("ubnd-tp"), .conflictOfInterest), RoutedAgency(Self.code("thanh-tra-tp"), .conflictOfInterest),
            ])
        // Without any rule naming it, the subject's exclusion changes nothing.
        #expect(
            try Self.route("land", ["dong-da", "ha-noi"], subject: "ubnd-cau-giay") == [
                RoutedAgency(Self.code("so-nnmt"), .rule), RoutedAgency(Self.code("thanh-tra-tp"), .subjectSupervisor),
            ])
    }

    @Test func aReassignmentOrTransferToTheSubjectIsAConflict() {
        #expect(RoutingTable.conflict(assigning: Self.code("ubnd-cau-giay"), subjectAgency: Self.code("ubnd-cau-giay")) != nil)
        #expect(RoutingTable.conflict(assigning: Self.code("so-nnmt"), subjectAgency: Self.code("ubnd-cau-giay")) == nil)
        #expect(RoutingTable.conflict(assigning: Self.code("so-nnmt"), subjectAgency: nil) == nil)
    }

    @Test func noMatchGoesToTheCoordinatorsQueue() throws {
        #expect(try Self.route("education", ["dong-da", "ha-noi"]) == [RoutedAgency(Self.code("thanh-tra-tp"), .coordinatorQueue)])
    }

    @Test func noMatchAndNoCoordinatorIsAnError() {
        let table = RoutingTable(rules: [], agencies: [AgencyNode(code: Self.code("so-nnmt"))])
        #expect(throws: RoutingError.noCoordinator) {
            try table.route(category: "land", jurisdictions: [Self.code("ha-noi")], subjectAgency: nil)
        }
    }

    @Test func rulesNamingUnknownAgenciesAreSkipped() throws {
        let table = RoutingTable(
            rules: [RoutingRule(category: nil, jurisdiction: nil, target: .agency(Self.code("gone")))],
            agencies: [AgencyNode(code: Self.code("thanh-tra-tp"), isCoordinator: true)])
        #expect(
            try table.route(category: "land", jurisdictions: [], subjectAgency: nil) == [RoutedAgency(Self.code("thanh-tra-tp"), .coordinatorQueue)])
    }
}

import Foundation
import Testing
import TipwireCore

@Suite("Task lifecycle")
struct TaskLifecycleTests {
    static let ward = PartyCode(rawValue: "ubnd-cau-giay")!
    static let department = PartyCode(rawValue: "so-nnmt")!
    static let tuoitre = PartyCode(rawValue: "tuoitre")!
    static let vnexpress = PartyCode(rawValue: "vnexpress")!

    /// A valid instance of every action.
    static let actions: [TaskAction] = [
        .acknowledge(note: "Đã tiếp nhận"),
        .start,
        .requestInfo(questions: "Đề nghị cung cấp biên bản gốc", documentsWanted: ["biên bản kiểm tra"]),
        .answerInfo(answer: "Đã gửi biên bản"),
        .extend(days: 30, reason: "Vụ việc phức tạp"),
        .transfer(to: department, reason: "Thuộc thẩm quyền Sở"),
        .decline(reason: "Không thuộc thẩm quyền"),
        .resolve(outcome: .partlySubstantiated, summary: "Kết luận đúng một phần"),
        .reopen(reason: "Kết luận chưa đầy đủ"),
        .close(reason: "Đã xử lý qua kênh khác"),
    ]

    /// The lifecycle written out by hand: (state, action) → new state, for the actor allowed to act.
    /// Every pair not listed must be refused.
    static let legal: [TaskState: [TaskActionName: TaskState]] = [
        .assigned: [.acknowledge: .acknowledged, .transfer: .transferred, .decline: .declined, .close: .closed],
        .delivered: [.acknowledge: .acknowledged, .transfer: .transferred, .decline: .declined, .close: .closed],
        .acknowledged: [
            .start: .inProgress, .requestInfo: .infoRequested, .extend: .acknowledged, .transfer: .transferred, .decline: .declined,
            .resolve: .resolved, .close: .closed,
        ],
        .inProgress: [
            .requestInfo: .infoRequested, .extend: .inProgress, .transfer: .transferred, .decline: .declined, .resolve: .resolved,
            .close: .closed,
        ],
        .infoRequested: [.answerInfo: .inProgress, .extend: .infoRequested, .close: .closed],
        .resolved: [.reopen: .inProgress],
        .declined: [.reopen: .inProgress, .close: .closed],
        .transferred: [:],
        .closed: [.reopen: .inProgress],
    ]

    /// Who may take an action on a task of `ward` for a finding of `tuoitre`.
    static func rightActors(for action: TaskActionName) -> Set<TaskActor> {
        switch action {
        case .reopen, .close: [.coordinator]
        case .answerInfo: [.newsroom(tuoitre)]
        case .transfer: [.agency(ward), .coordinator]
        default: [.agency(ward)]
        }
    }

    static let allActors: [TaskActor] = [.agency(ward), .agency(department), .coordinator, .newsroom(tuoitre), .newsroom(vnexpress)]

    static func task(_ state: TaskState, extensions: Int = 0) -> TaskSnapshot {
        TaskSnapshot(state: state, agency: ward, newsroom: tuoitre, extensions: extensions)
    }

    @Test("every state × action × actor is accepted or refused as the lifecycle says", arguments: TaskState.allCases)
    func everyPair(_ state: TaskState) {
        for action in Self.actions {
            for actor in Self.allActors {
                let result = TaskLifecycle.apply(action, by: actor, to: Self.task(state))
                let isRightActor = Self.rightActors(for: action.name).contains(actor)
                switch (Self.legal[state]?[action.name], isRightActor, result) {
                case (let expected?, true, .success(let transition)):
                    #expect(transition.to == expected, "\(state) \(action.name)")
                    #expect(transition.from == state)
                case (_, false, .failure(.forbidden(let name, _))):
                    #expect(name == action.name)
                case (nil, true, .failure(.illegal(let current, let name, let allowed))):
                    #expect(current == state && name == action.name)
                    let expectedAllowed = Set(Self.legal[state, default: [:]].keys.filter { Self.rightActors(for: $0).contains(actor) })
                    #expect(Set(allowed) == expectedAllowed, "\(state): allowed actions for \(actor)")
                default:
                    Issue.record("\(state) × \(action.name) by \(actor): unexpected \(result)")
                }
            }
        }
    }

    @Test func terminalStatesAreTheOnesThatDischargeTheAgency() {
        #expect(TaskState.allCases.filter(\.isTerminal) == [.resolved, .declined, .transferred, .closed])
    }

    @Test func resolvingNeedsASummaryAndDecliningAndClosingNeedAReason() {
        let blank = [
            TaskAction.resolve(outcome: .substantiated, summary: "  "), .decline(reason: ""), .transfer(to: Self.department, reason: "\n"),
            .extend(days: 10, reason: ""), .requestInfo(questions: " ", documentsWanted: []),
        ]
        for action in blank {
            guard case .failure(.invalid(let failure)) = TaskLifecycle.apply(action, by: .agency(Self.ward), to: Self.task(.inProgress)) else {
                Issue.record("\(action.name) with a blank field was accepted")
                continue
            }
            #expect(!failure.errors.isEmpty)
        }
        guard case .failure(.invalid(let failure)) = TaskLifecycle.apply(.close(reason: ""), by: .coordinator, to: Self.task(.declined)) else {
            Issue.record("close without a reason was accepted")
            return
        }
        #expect(failure.errors.map(\.field) == ["reason"])
    }

    @Test func extensionsAreCappedByPolicy() {
        let policy = LifecyclePolicy(maximumExtensions: 2, maximumExtensionDays: 30)
        let first = TaskLifecycle.apply(.extend(days: 30, reason: "phức tạp"), by: .agency(Self.ward), to: Self.task(.inProgress), policy: policy)
        #expect((try? first.get())?.extensions == 1)
        let third = TaskLifecycle.apply(
            .extend(days: 5, reason: "phức tạp"), by: .agency(Self.ward), to: Self.task(.inProgress, extensions: 2), policy: policy)
        guard case .failure(.invalid(let failure)) = third else {
            Issue.record("a third extension was accepted")
            return
        }
        #expect(failure.errors.map(\.field) == ["days"])
        let tooLong = TaskLifecycle.apply(.extend(days: 31, reason: "phức tạp"), by: .agency(Self.ward), to: Self.task(.inProgress), policy: policy)
        guard case .failure(.invalid) = tooLong else {
            Issue.record("a 31-day extension was accepted")
            return
        }
    }

    @Test func aTransferOpensATaskForAnotherAgencyOnly() throws {
        let transfer = try TaskLifecycle.apply(
            .transfer(to: Self.department, reason: "thẩm quyền"), by: .agency(Self.ward), to: Self.task(.acknowledged)
        ).get()
        #expect(transfer.opensTaskFor == Self.department)
        #expect(transfer.to == .transferred)
        let toItself = TaskLifecycle.apply(.transfer(to: Self.ward, reason: "thẩm quyền"), by: .agency(Self.ward), to: Self.task(.acknowledged))
        guard case .failure(.invalid(let failure)) = toItself else {
            Issue.record("a transfer to the same agency was accepted")
            return
        }
        #expect(failure.errors.map(\.field) == ["agency"])
    }

    @Test func anIllegalTransitionNamesTheStateAndWhatIsAllowed() {
        let result = TaskLifecycle.apply(.resolve(outcome: .substantiated, summary: "x"), by: .agency(Self.ward), to: Self.task(.delivered))
        guard case .failure(let rejection) = result else {
            Issue.record("resolving a delivered task was accepted")
            return
        }
        #expect(rejection.description == "cannot resolve a task that is delivered; allowed now: acknowledge, transfer, decline")
    }
}

@Suite("Task action fields")
struct TaskActionFieldsTests {
    static let actions: [TaskAction] = [
        .acknowledge(note: nil), .acknowledge(note: "Đã nhận"), .start, .requestInfo(questions: "Biên bản?", documentsWanted: []),
        .requestInfo(questions: "Biên bản?", documentsWanted: ["biên bản", "ảnh"]), .answerInfo(answer: "Đã gửi"),
        .extend(days: 10, reason: "xác minh"), .transfer(to: PartyCode(rawValue: "so-xay-dung")!, reason: "thẩm quyền"),
        .decline(reason: "không thuộc"),
        .reopen(reason: "mở lại"), .close(reason: "đóng"), .resolve(outcome: .substantiated, summary: "Đã xử lý"),
    ]

    @Test(arguments: actions)
    func parsingAnActionsFieldsGivesTheActionBack(action: TaskAction) throws {
        #expect(try TaskAction.parse(action.name, .object(action.fields)) == action)
    }

    @Test func theTimelineNamesATransfersNewHolderAsTo() {
        let transfer = TaskAction.transfer(to: PartyCode(rawValue: "so-xay-dung")!, reason: "thẩm quyền")
        #expect(transfer.timelineDetail == ["to": .string("so-xay-dung"), "reason": .string("thẩm quyền")])
        #expect(transfer.text == "thẩm quyền")
        #expect(TaskAction.start.text == "")
    }

    /// Each role is to the lifecycle what its scope says, and the roles that take no part are none of them.
    @Test func aPrincipalActsAsItsAgencyItsNewsroomOrTheCoordinator() {
        let id = UUID()
        #expect(TaskActor(Principal(tokenID: id, role: .agency, agency: TaskLifecycleTests.ward)) == .agency(TaskLifecycleTests.ward))
        #expect(TaskActor(Principal(tokenID: id, role: .liaison, newsroom: TaskLifecycleTests.tuoitre)) == .newsroom(TaskLifecycleTests.tuoitre))
        #expect(TaskActor(Principal(tokenID: id, role: .coordinator, agency: TaskLifecycleTests.department)) == .coordinator)
        #expect(TaskActor(Principal(tokenID: id, role: .agency)) == nil)
        #expect(TaskActor(Principal(tokenID: id, role: .liaison)) == nil)
        #expect(TaskActor(Principal(tokenID: id, role: .auditor)) == nil)
        #expect(TaskActor(Principal(tokenID: id, role: .admin)) == nil)
    }
}

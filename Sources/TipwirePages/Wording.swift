import Foundation
import TipwireCore

/// The pages' words and how numbers and dates are written, in Vietnamese (the default) or English.
public struct Wording: Sendable {
    public let language: Language

    public init(_ language: Language) { self.language = language }

    /// The text for `key` in this language; the key itself if it has none (a test checks every key has both).
    public subscript(_ key: String) -> String {
        guard let pair = Self.texts[key] else { return key }
        return language == .vietnamese ? pair.vi : pair.en
    }

    /// Every key with its Vietnamese and English text.
    public static let texts: [String: (vi: String, en: String)] = [
        "app": ("tipwire — Theo dõi phản hồi tin báo chí", "tipwire — press-tip response tracker"),
        "skip": ("Bỏ qua, tới nội dung chính", "Skip to the main content"),
        "nav": ("Điều hướng chính", "Main navigation"),
        "overview": ("Tổng quan", "Overview"),
        "agencies": ("Các cơ quan", "Agencies"),
        "agency": ("Cơ quan", "Agency"),
        "tasks": ("Nhiệm vụ", "Tasks"),
        "overdue": ("Quá hạn", "Overdue"),
        "escalations": ("Cảnh báo leo thang", "Escalations"),
        "scorecard": ("Bảng đánh giá năm", "Annual scorecard"),
        "sign-in": ("Đăng nhập", "Sign in"),
        "sign-out": ("Đăng xuất", "Sign out"),
        "token": ("Mã truy cập (token)", "Access token"),
        "token-help": (
            "Dán mã truy cập của điều phối viên hoặc cơ quan (bắt đầu bằng tw_). Phiên đăng nhập kéo dài 8 giờ.",
            "Paste a coordinator's or an agency's access token (it starts with tw_). The session lasts 8 hours."
        ),
        "bad-token": (
            "Mã truy cập không hợp lệ, đã hết hạn hoặc không dành cho bảng điều khiển.",
            "The token is invalid, expired, or not one the dashboard accepts."
        ),
        "signed-in-as": ("Đăng nhập với vai trò", "Signed in as"),
        "language": ("Ngôn ngữ", "Language"),
        "period": ("Kỳ", "Period"),
        "period-default-group": ("Mặc định", "Default"),
        "period-default": ("Năm báo cáo đến nay", "Reporting year to date"),
        "reporting-periods": ("Kỳ báo cáo (từ ngày %d tháng trước đến ngày %d)", "Reporting periods (day %d of the month before to day %d)"),
        "reporting-periods-calendar": ("Kỳ báo cáo (theo tháng dương lịch)", "Reporting periods (calendar months)"),
        "calendar-periods": ("Kỳ theo lịch", "Calendar periods"),
        "custom-range": ("Khoảng ngày tùy chọn", "Custom range"),
        "showing": ("Đang xem", "Showing"),
        "figures-note": (
            "Số liệu tính đến %@; phân vị tính bằng giờ sai lệch không quá 1%%, các số liệu khác chính xác.",
            "Figures as of %@; percentiles in hours are within 1%%, every other figure is exact."
        ),
        "from": ("Từ ngày", "From"),
        "to": ("Đến ngày", "To"),
        "show": ("Xem", "Show"),
        "findings-received": ("Tin báo nhận được", "Findings received"),
        "findings-accounted": ("Tin báo đã xử lý xong", "Findings accounted for"),
        "tasks-assigned": ("Nhiệm vụ được giao", "Tasks assigned"),
        "ack-median": ("Thời gian tiếp nhận (trung vị)", "Time to acknowledge (median)"),
        "ack-on-time": ("Tiếp nhận đúng hạn", "Acknowledged on time"),
        "resolve-median": ("Thời gian giải quyết (trung vị)", "Time to resolve (median)"),
        "resolve-on-time": ("Giải quyết đúng hạn", "Resolved on time"),
        "open-tasks": ("Nhiệm vụ đang mở", "Open tasks"),
        "overdue-duties": ("Nghĩa vụ quá hạn", "Overdue duties"),
        "open-escalations": ("Cảnh báo chưa xử lý", "Open escalations"),
        "trend": ("Xu hướng theo tháng", "Monthly trend"),
        "trend-caption": (
            "Số nhiệm vụ được giao mỗi tháng và tỉ lệ tiếp nhận đúng hạn.", "Tasks assigned each month and the share acknowledged on time."
        ),
        "month": ("Tháng", "Month"),
        "share-on-time": ("Tỉ lệ đúng hạn", "Share on time"),
        "insufficient": ("không đủ dữ liệu", "insufficient data"),
        "insufficient-note": ("“không đủ dữ liệu”: ít hơn %d nhiệm vụ.", "\"insufficient data\": fewer than %d tasks."),
        "code": ("Mã", "Code"),
        "name": ("Tên", "Name"),
        "ack-p50": ("Tiếp nhận p50", "Acknowledge p50"),
        "ack-p90": ("Tiếp nhận p90", "Acknowledge p90"),
        "resolve-p50": ("Giải quyết p50", "Resolve p50"),
        "accounted": ("Đã xử lý xong", "Accounted for"),
        "sort-by": ("Sắp xếp theo", "Sort by"),
        "ascending": ("tăng dần", "ascending"),
        "descending": ("giảm dần", "descending"),
        "distribution": ("Phân bố thời gian tiếp nhận", "Distribution of time to acknowledge"),
        "distribution-caption": ("Số nhiệm vụ theo số ngày làm việc đến khi tiếp nhận.", "Tasks by working days taken to acknowledge."),
        "backlog": ("Nhiệm vụ đang mở theo thời gian chờ", "Open tasks by age"),
        "backlog-caption": ("Số nhiệm vụ chưa xong theo số ngày kể từ khi giao.", "Unfinished tasks by days since assignment."),
        "age-0-7": ("0–7 ngày", "0–7 days"),
        "age-8-30": ("8–30 ngày", "8–30 days"),
        "age-31-90": ("31–90 ngày", "31–90 days"),
        "age-over-90": ("trên 90 ngày", "over 90 days"),
        "age": ("Thời gian chờ (ngày)", "Age (days)"),
        "count": ("Số lượng", "Count"),
        "stage": ("Giai đoạn", "Stage"),
        "p50": ("p50", "p50"),
        "p90": ("p90", "p90"),
        "p99": ("p99", "p99"),
        "on-time": ("Đúng hạn", "On time"),
        "hours": ("giờ", "hours"),
        "stage-deliver": ("Chuyển đến cơ quan", "Delivery"),
        "stage-acknowledge": ("Tiếp nhận", "Acknowledgement"),
        "stage-first_response": ("Phản hồi đầu tiên", "First response"),
        "stage-resolve": ("Giải quyết", "Resolution"),
        "stage-newsroom_answer": ("Báo chí trả lời", "Newsroom's answer"),
        "stage-agency_answer": ("Cơ quan trả lời", "Agency's answer"),
        "extensions": ("Gia hạn", "Extensions"),
        "transfers": ("Chuyển cơ quan khác", "Transfers"),
        "declines": ("Từ chối", "Declines"),
        "finding": ("Tin báo", "Finding"),
        "state": ("Trạng thái", "State"),
        "assigned": ("Ngày giao", "Assigned"),
        "due": ("Hạn", "Due"),
        "holder": ("Bên có nghĩa vụ", "Duty holder"),
        "late-by": ("Trễ", "Late by"),
        "rung": ("Bậc", "Rung"),
        "raised": ("Thời điểm", "Raised"),
        "kind": ("Loại", "Kind"),
        "kind-overdue": ("Quá hạn", "Overdue notice"),
        "kind-escalation": ("Leo thang", "Escalation"),
        "acknowledge": ("Xác nhận đã xem", "Acknowledge"),
        "acknowledged-by": ("Đã xác nhận bởi", "Acknowledged by"),
        "note": ("Ghi chú", "Note"),
        "note-help": ("Bắt buộc: việc đã làm hoặc sẽ làm.", "Required: what was or will be done."),
        "nothing-overdue": ("Không có nghĩa vụ nào quá hạn.", "No duty is overdue."),
        "no-escalations": ("Không có cảnh báo nào.", "No escalations."),
        "no-tasks": ("Không có nhiệm vụ nào.", "No tasks."),
        "more": ("Trang sau", "Next page"),
        "open-only": ("Đang mở", "Open"),
        "acknowledged-only": ("Đã xác nhận", "Acknowledged"),
        "all": ("Tất cả", "All"),
        "not-found": ("Không tìm thấy", "Not found"),
        "not-found-text": (
            "Trang hoặc đối tượng này không tồn tại, hoặc bạn không có quyền xem.", "This page or object does not exist, or you may not see it."
        ),
        "bad-request": ("Yêu cầu không hợp lệ", "Bad request"),
        "back": ("Quay lại trang chính", "Back to your start page"),
        "method": ("Phương pháp", "Method"),
        "print": ("In trang này", "Print this page"),
        "download-csv": ("Tải CSV", "Download CSV"),
        "year": ("Năm", "Year"),
        "working-days": ("ngày làm việc", "working days"),
        "csrf": ("Phiên làm việc đã thay đổi; vui lòng thử lại.", "The form expired; please try again."),
        "done": ("Đã ghi nhận.", "Done."),
        "main-figures": ("Số liệu chính", "Key figures"),
        "previous-period": ("so với kỳ trước", "against the previous period"),
        "role-coordinator": ("Điều phối viên", "Coordinator"),
        "role-agency": ("Cơ quan", "Agency"),
        "role-liaison": ("Cán bộ liên lạc tòa soạn", "Newsroom liaison"),
        // The newsroom's desk.
        "desk": ("Bàn làm việc của tòa soạn", "Newsroom desk"),
        "desk-caption": ("Tin báo của tòa soạn, mới nhất trước", "The newsroom's findings, newest first"),
        "no-findings": ("Chưa có tin báo nào.", "No findings yet."),
        "submit-finding": ("Gửi tin báo", "Submit a finding"),
        "received": ("Ngày nhận", "Received"),
        "published": ("Ngày đăng", "Published"),
        "accounted-for": ("Đã được giải quyết", "Accounted for"),
        "accounted-yes": ("Có", "Yes"),
        "accounted-no": ("Chưa", "Not yet"),
        "open-tasks-count": ("đang mở:", "open:"),
        "findings-open": ("Chưa giải quyết xong", "Not accounted for"),
        "findings-accounted-only": ("Đã giải quyết xong", "Accounted for"),
        "source-sealed": ("Thông tin nguồn (đã niêm phong)", "Source details (sealed)"),
        "none": ("Không có", "None"),
        "choose": ("— Chọn —", "— Choose —"),
        "field-title": ("Tiêu đề", "Title"),
        "field-article_url": ("Địa chỉ bài báo", "Article address"),
        "field-published_at": ("Thời điểm đăng (giờ Hà Nội)", "Published at (Hanoi time)"),
        "field-finding_summary": ("Tóm tắt phát hiện", "Summary of the finding"),
        "field-category": ("Lĩnh vực", "Category"),
        "field-jurisdiction": ("Địa bàn", "Jurisdiction"),
        "field-subject_agency": ("Cơ quan bị phản ánh", "Agency the finding concerns"),
        "field-subject_agency-help": (
            "Cơ quan này sẽ không được giao xử lý tin báo (xung đột lợi ích).",
            "That agency is never given the finding to handle (conflict of interest)."
        ),
        "field-documents": ("Tài liệu kèm theo", "Documents"),
        "documents-limit": ("Có thể chọn nhiều tệp, mỗi tệp tối đa {size}.", "Several files may be chosen, each at most {size}."),
        "field-source_envelope": ("Thông tin nguồn đã niêm phong", "Sealed source details"),
        "field-source_envelope-help": (
            "Tệp phong bì tạo trên máy của bạn bằng tipwire source seal; máy chủ không bao giờ thấy nội dung.",
            "An envelope file made on your own machine with tipwire source seal; the server never sees what it holds."
        ),
        "empty-file": ("tệp rỗng", "the file is empty"),
        "envelope-not-json": (
            "Tệp này không phải phong bì JSON do tipwire source seal tạo.", "This file is not a JSON envelope made by tipwire source seal."
        ),
        "file-too-large": ("Tệp vượt quá giới hạn {size}.", "A file is over the limit of {size}."),
        "too-many-files": ("Quá nhiều tệp: tối đa {count}.", "Too many files: at most {count}."),
        // Information requests, on the desk and in the inbox.
        "requests": ("Yêu cầu thông tin", "Information requests"),
        "requests-to-us": ("Gửi đến chúng tôi", "Addressed to us"),
        "requests-ours": ("Chúng tôi đã gửi", "Sent by us"),
        "request-open": ("Đang chờ trả lời", "Awaiting an answer"),
        "request-answered": ("Đã trả lời", "Answered"),
        "request-declined": ("Đã từ chối", "Declined"),
        "no-requests": ("Không có yêu cầu nào.", "No requests."),
        "party": ("Bên kia", "Other party"),
        "asked-at": ("Thời điểm gửi", "Sent"),
        "answered-at": ("Thời điểm trả lời", "Answered at"),
        "due-or-answered": ("Hạn trả lời, hoặc thời điểm đã trả lời", "Due, or when answered"),
        "request-to-newsroom": ("Đề nghị tòa soạn cung cấp thông tin", "A request for information to the newsroom"),
        "request-to-agency": ("Câu hỏi của tòa soạn gửi cơ quan", "The newsroom's question to the agency"),
        "field-answer": ("Nội dung trả lời", "Answer"),
        "request-answer": ("Trả lời", "Answer"),
        "request-decline": ("Từ chối cung cấp", "Decline to answer"),
        "agency-no-documents": ("Cơ quan trả lời bằng văn bản; không đính kèm tệp ở đây.", "An agency answers in text; no file is attached here."),
        "ask-agencies": ("Hỏi cơ quan xử lý", "Ask the agencies"),
        "every-agency": ("Mọi cơ quan đang xử lý", "Every agency handling it"),
        "questions-to-agencies": ("Câu hỏi gửi cơ quan", "Questions to agencies"),
        "field-question": ("Câu hỏi", "Question"),
        "field-agency-asked": ("Cơ quan được hỏi", "Agency asked"),
        // Sealing in the page.
        "field-source_envelope_sealed": ("Hoặc: niêm phong thông tin nguồn ngay trên trang này", "Or: seal the source details in this page"),
        "field-source_envelope_sealed-help": (
            "Trình duyệt niêm phong thông tin bằng khóa hiện hành của tòa soạn trước khi gửi; nội dung này không bao giờ rời khỏi trang, chỉ bản niêm phong được gửi đi.",
            "Your browser seals the details to the newsroom's current key before the form is sent; they never leave this page, only the sealed envelope is sent."
        ),
        "seal-details": ("Thông tin nguồn (chỉ bạn thấy)", "Source details (only you see them)"),
        "seal-failed": (
            "Trình duyệt này không niêm phong được; hãy dùng tệp phong bì tạo bằng tipwire source seal.",
            "This browser could not seal; use an envelope file made with tipwire source seal."
        ),
        "envelope-twice": ("Chỉ gửi một phong bì: tệp, hoặc niêm phong trên trang.", "Send one envelope: a file, or one sealed in the page."),
        // Disclosure requests.
        "disclosures": ("Yêu cầu tiết lộ nguồn tin", "Disclosure requests"),
        "disclosures-caption": ("Yêu cầu tiết lộ nguồn tin, mới nhất trước", "Disclosure requests, newest first"),
        "no-disclosures": ("Không có yêu cầu tiết lộ nguồn tin nào.", "No disclosure requests."),
        "disclosure": ("Yêu cầu tiết lộ", "Disclosure request"),
        "file-disclosure": ("Gửi yêu cầu tiết lộ nguồn tin", "File a disclosure request"),
        "file-disclosure-intro": (
            "Chỉ cơ quan có thẩm quyền theo căn cứ pháp lý được chọn mới được yêu cầu, bằng văn bản có chữ ký. Tòa soạn quyết định; máy chủ không bao giờ nắm giữ nguồn tin.",
            "Only an authority the chosen legal basis names may ask, by a signed letter. The newsroom decides; the server never holds the source."
        ),
        "disclosure-open": ("Chờ tòa soạn quyết định", "Awaiting the newsroom's decision"),
        "disclosure-complied": ("Đã chấp thuận", "Complied"),
        "disclosure-refused": ("Đã từ chối", "Refused"),
        "disclosure-contested": ("Đã phản đối", "Contested"),
        "decide-disclosure": ("Quyết định", "Decide"),
        "already-decided": ("Yêu cầu này đã được quyết định", "This request was already decided"),
        "decided": ("Đã quyết định", "Decided"),
        "decision-comply": ("Chấp thuận", "Comply"),
        "decision-refuse": ("Từ chối", "Refuse"),
        "decision-contest": ("Phản đối", "Contest"),
        "requested-by": ("Người yêu cầu", "Requested by"),
        "legal-basis-text": ("Căn cứ pháp lý", "The legal basis"),
        "download-letter": ("Tải văn bản yêu cầu", "Download the written request"),
        "no-such-source": ("Không có nguồn tin nào mang mã này.", "No source has this handle."),
        "field-source_handle": ("Mã nguồn tin", "Source handle"),
        "field-legal_basis": ("Căn cứ pháp lý", "Legal basis"),
        "field-crime_class": ("Loại tội phạm", "Class of crime"),
        "field-case_reference": ("Số hồ sơ vụ án", "Case reference"),
        "field-dated": ("Ngày của văn bản", "Date of the letter"),
        "field-written_request": ("Văn bản yêu cầu có chữ ký", "The signed written request"),
        "field-written_request-help": ("Bản quét PDF hoặc ảnh, tối đa {size}.", "A scanned PDF or image, at most {size}."),
        "field-decision": ("Quyết định", "Decision"),
        "crime-less-serious": ("Ít nghiêm trọng", "Less serious"),
        "crime-serious": ("Nghiêm trọng", "Serious"),
        "crime-very-serious": ("Rất nghiêm trọng", "Very serious"),
        "crime-especially-serious": ("Đặc biệt nghiêm trọng", "Especially serious"),
        // Protection cases.
        "protection-cases": ("Bảo vệ người tố giác", "Protection cases"),
        "protection-caption": ("Vụ việc bảo vệ, mới nhất trước", "Protection cases, newest first"),
        "no-protection-cases": ("Không có vụ việc bảo vệ nào.", "No protection cases."),
        "protection-case": ("Vụ việc bảo vệ", "Protection case"),
        "open-protection": ("Đề nghị bảo vệ", "Ask for protection"),
        "open-protection-intro": (
            "Cơ quan bảo vệ được xác định theo địa bàn và phải tiếp nhận trong 24 giờ. Thông tin chi tiết chỉ gửi dưới dạng niêm phong.",
            "The protecting agency follows from the jurisdiction and must acknowledge within 24 hours. Details go only sealed."
        ),
        "protection-open": ("Chờ tiếp nhận", "Awaiting acknowledgement"),
        "protection-acknowledged": ("Đã tiếp nhận", "Acknowledged"),
        "protection-resolved": ("Đã kết thúc", "Resolved"),
        "protection-acknowledge": ("Tiếp nhận vụ việc", "Acknowledge the case"),
        "protection-resolve": ("Kết thúc vụ việc", "Resolve the case"),
        "protection-outcome-protected": ("Đã áp dụng biện pháp bảo vệ", "Protected"),
        "protection-outcome-not-protected": ("Không thể bảo vệ", "Not protected"),
        "protection-outcome-withdrawn": ("Người đề nghị đã rút", "Withdrawn"),
        "protecting-agency": ("Cơ quan bảo vệ", "Protecting agency"),
        "opened-at": ("Thời điểm đề nghị", "Opened"),
        "acknowledged-at": ("Thời điểm tiếp nhận", "Acknowledged at"),
        "acknowledge-due": ("Hạn tiếp nhận", "Acknowledge by"),
        "resolved-at": ("Thời điểm kết thúc", "Resolved at"),
        "resolve-due": ("Hạn kết thúc", "Resolve by"),
        "field-person": ("Người cần bảo vệ", "Person at risk"),
        "field-retaliation": ("Hình thức trù dập", "Retaliation"),
        "field-finding_id": ("Tin báo liên quan", "The finding it follows"),
        "field-details_envelope": ("Thông tin chi tiết đã niêm phong", "Sealed details"),
        "field-details_envelope-help": (
            "Tệp phong bì (JSON) tạo trên máy của bạn bằng tipwire source seal; máy chủ chỉ thấy bản niêm phong.",
            "An envelope file (JSON) made on your own machine with tipwire source seal; the server sees only the sealed form."
        ),
        "person-source": ("Nguồn tin", "Source"),
        "person-journalist": ("Nhà báo", "Journalist"),
        "retaliation-threat": ("Đe dọa", "Threat"),
        "retaliation-harassment": ("Quấy rối", "Harassment"),
        "retaliation-dismissal": ("Cho thôi việc", "Dismissal"),
        "retaliation-violence": ("Bạo lực", "Violence"),
        "retaliation-other": ("Khác", "Other"),
        // The agency's inbox.
        "inbox": ("Hộp việc", "Inbox"),
        "inbox-caption": ("Nhiệm vụ đang mở, việc đến hạn sớm nhất trước", "Open tasks, the one due soonest first"),
        "no-open-tasks": ("Không có nhiệm vụ nào đang mở.", "No open tasks."),
        "paused": ("Tạm dừng, chờ báo chí trả lời", "Paused, waiting for the newsroom's answer"),
        "remaining": ("còn", "remaining"),
        "late-today": ("trễ chưa đến một ngày làm việc", "late by less than a working day"),
        "newsroom": ("Cơ quan báo chí", "Newsroom"),
        "category": ("Lĩnh vực", "Category"),
        "jurisdiction": ("Địa bàn", "Jurisdiction"),
        "article": ("Bài báo", "Article"),
        "summary": ("Tóm tắt", "Summary"),
        "documents": ("Tài liệu", "Documents"),
        "no-documents": ("Không có tài liệu kèm theo.", "No documents attached."),
        "download": ("Tải xuống", "Download"),
        "bytes": ("byte", "bytes"),
        "actions": ("Xử lý", "Actions"),
        "no-actions": ("Không còn thao tác nào ở trạng thái này.", "No action is possible in this state."),
        "timeline": ("Diễn biến", "Timeline"),
        "optional": ("không bắt buộc", "optional"),
        "action-done": ("Đã ghi nhận thao tác.", "The action was recorded."),
        "form-errors": ("Biểu mẫu có lỗi; xem các trường được đánh dấu.", "The form has errors; see the marked fields."),
        "already-done": ("Biểu mẫu này đã được gửi; kết quả đã ghi nhận trước đó.", "This form was already sent; its result was recorded before."),
        "action-acknowledge": ("Tiếp nhận", "Acknowledge"),
        "action-start": ("Bắt đầu xử lý", "Start work"),
        "action-request-info": ("Đề nghị báo chí cung cấp thông tin", "Ask the newsroom for information"),
        "action-extend": ("Gia hạn", "Extend"),
        "action-transfer": ("Chuyển cơ quan khác", "Transfer to another agency"),
        "action-decline": ("Từ chối", "Decline"),
        "action-resolve": ("Kết thúc xử lý", "Resolve"),
        "field-note": ("Ghi chú", "Note"),
        "field-questions": ("Câu hỏi", "Questions"),
        "field-documents_wanted": ("Tài liệu cần cung cấp", "Documents wanted"),
        "field-documents_wanted-help": ("Mỗi dòng một tài liệu.", "One per line."),
        "field-days": ("Số ngày làm việc gia hạn", "Working days to extend by"),
        "field-days-help": ("Trong giới hạn gia hạn của lĩnh vực.", "Within the category's extension limit."),
        "field-reason": ("Lý do", "Reason"),
        "field-agency": ("Cơ quan tiếp nhận", "Receiving agency"),
        "field-outcome": ("Kết quả", "Outcome"),
        "field-summary": ("Tóm tắt kết quả", "Summary of the outcome"),
        "outcome-substantiated": ("Có cơ sở", "Substantiated"),
        "outcome-partly_substantiated": ("Có cơ sở một phần", "Partly substantiated"),
        "outcome-unsubstantiated": ("Không có cơ sở", "Unsubstantiated"),
        "outcome-referred_to_investigation": ("Chuyển cơ quan điều tra", "Referred to investigation"),
        "state-assigned": ("Đã giao", "Assigned"),
        "state-delivered": ("Đã chuyển đến", "Delivered"),
        "state-acknowledged": ("Đã tiếp nhận", "Acknowledged"),
        "state-in_progress": ("Đang xử lý", "In progress"),
        "state-info_requested": ("Chờ báo chí cung cấp thông tin", "Waiting for information"),
        "state-resolved": ("Đã xử lý xong", "Resolved"),
        "state-declined": ("Đã từ chối", "Declined"),
        "state-transferred": ("Đã chuyển", "Transferred"),
        "state-closed": ("Đã đóng", "Closed"),
        "event-assigned": ("Giao nhiệm vụ", "Assigned"),
        "event-delivered": ("Chuyển đến cơ quan", "Delivered"),
        "event-acknowledged": ("Tiếp nhận", "Acknowledged"),
        "event-started": ("Bắt đầu xử lý", "Work started"),
        "event-info_requested": ("Đề nghị cung cấp thông tin", "Information requested"),
        "event-info_answered": ("Báo chí đã trả lời", "Information answered"),
        "event-extended": ("Gia hạn", "Extended"),
        "event-transferred": ("Chuyển cơ quan", "Transferred"),
        "event-declined": ("Từ chối", "Declined"),
        "event-resolved": ("Xử lý xong", "Resolved"),
        "event-reopened": ("Mở lại", "Reopened"),
        "event-closed": ("Đóng", "Closed"),
    ]

    /// A whole number with the language's thousands separator: 1.234 or 1,234.
    public func integer(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(language == .vietnamese ? "." : ",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// A number with at most one decimal: 12,5 or 12.5.
    public func decimal(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        if rounded == rounded.rounded() { return integer(Int(rounded)) }
        let text =
            integer(Int(rounded.rounded(.towardZero))) + (language == .vietnamese ? "," : ".") + String(Int((abs(rounded) * 10).rounded()) % 10)
        return rounded < 0 && rounded > -1 ? "-" + text : text
    }

    /// A share as a percentage: 93,5% or 93.5%; a dash when withheld.
    public func percent(_ share: Double?) -> String {
        guard let share else { return self["insufficient"] }
        return decimal(share * 100) + "%"
    }

    /// Working days: "3 ngày làm việc" / "3 working days" (English says "1 working day").
    public func workingDays(_ value: Double?) -> String {
        guard let value else { return self["insufficient"] }
        if language == .english && value == 1 { return "1 working day" }
        return "\(decimal(value)) \(self["working-days"])"
    }

    public func hours(_ value: Double?) -> String {
        guard let value else { return self["insufficient"] }
        if language == .english && value == 1 { return "1 hour" }
        return "\(decimal(value)) \(self["hours"])"
    }

    /// A day in Hanoi: 20/03/2026 or 20 Mar 2026.
    public func date(_ instant: Date) -> String {
        let day = WorkingCalendar.dayOf(instant)
        return day.formatted(language)
    }

    /// A day and time in Hanoi: 20/03/2026 14:05 or 20 Mar 2026, 14:05.
    public func dateTime(_ instant: Date) -> String {
        let seconds = Int((instant.timeIntervalSince1970 + WorkingCalendar.utcOffset).rounded(.down))
        let minutes = ((seconds % 86_400) + 86_400) % 86_400 / 60
        let clock = String(format: "%02d:%02d", minutes / 60, minutes % 60)
        return date(instant) + (language == .vietnamese ? " " : ", ") + clock
    }

    /// `2026-03` as "Th3 2026" or "Mar 2026".
    /// The heading of the reporting periods, with the cut-off the calendar holds (it is data, not always the 15th).
    public func reportingPeriods(_ calendar: ReportingCalendar) -> String {
        calendar.startDay == 1
            ? self["reporting-periods-calendar"] : String(format: self["reporting-periods"], calendar.startDay, calendar.startDay - 1)
    }

    /// A named period as a reader says it: "Quý III/2026 (kỳ báo cáo)", "Reporting Q3 2026".
    public func periodName(_ named: NamedPeriod) -> String {
        let roman = ["I", "II", "III", "IV"]
        if language == .vietnamese {
            let name =
                switch named.span {
                case .year: "Năm \(named.year)"
                case .nineMonths: "9 tháng năm \(named.year)"
                case .half(let half): "6 tháng \(half == 1 ? "đầu" : "cuối") năm \(named.year)"
                case .quarter(let quarter): "Quý \(roman[quarter - 1])/\(named.year)"
                case .month(let month): "Tháng \(month)/\(named.year)"
                }
            return named.reporting ? "\(name) (kỳ báo cáo)" : name
        }
        let name =
            switch named.span {
            case .year: "\(named.year)"
            case .nineMonths: "9 months \(named.year)"
            case .half(let half): "H\(half) \(named.year)"
            case .quarter(let quarter): "Q\(quarter) \(named.year)"
            case .month(let month): "\(CalendarDay.englishMonths[month - 1]) \(named.year)"
            }
        return named.reporting ? "Reporting \(name)" : (named.span == .year ? "Year \(name)" : name)
    }

    /// A month's axis label ("Th3" / "Mar") and, at the first month shown and each January, its year.
    public func monthTick(_ key: String, first: Bool) -> (tick: String, year: String?) {
        guard let (year, month) = Self.yearAndMonth(key) else { return (key, nil) }
        return (shortMonth(month), first || month == 1 ? String(year) : nil)
    }

    public func month(_ key: String) -> String {
        guard let (year, month) = Self.yearAndMonth(key) else { return key }
        return "\(shortMonth(month)) \(year)"
    }

    /// "Th3" or "Mar".
    func shortMonth(_ month: Int) -> String { language == .vietnamese ? "Th\(month)" : CalendarDay.englishMonths[month - 1] }

    /// A report's month key, `2026-03`.
    static func yearAndMonth(_ key: String) -> (year: Int, month: Int)? {
        let parts = key.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else { return nil }
        return (year, month)
    }
}

extension CalendarDay {
    static let englishMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// 20/03/2026 (Vietnamese) or 20 Mar 2026 (English).
    public func formatted(_ language: Language) -> String {
        language == .vietnamese ? String(format: "%02d/%02d/%04d", day, month, year) : "\(day) \(Self.englishMonths[month - 1]) \(year)"
    }
}

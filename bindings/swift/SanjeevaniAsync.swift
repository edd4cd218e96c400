// The Swift-facing layer shipped with the generated bindings: async functions instead of
// blocking calls, and AsyncStreams instead of listeners; the same shape as the Kotlin layer
// (bindings/kotlin/org/sanjeevani/mobile/coroutines/Sanjeevani.kt).
//
// NOT COMPILED IN THIS REPOSITORY'S TESTS: there is no Swift toolchain on the Linux test
// machines. Build it with the generated Swift (`bash bindings/ios/build.sh` on a Mac) and
// compile it into the app or a Swift package next to SanjeevaniMobile.swift.
//
// Every generated call blocks its thread until the server answers (or the client's deadline,
// 10 s by default, passes), so each runs here on a detached task off the caller's actor.
// Cancelling the calling task does not end a call in flight (it ends at its deadline);
// `close()` makes every later call fail at once with MobileError.Closed.

import Foundation

public final class Sanjeevani: @unchecked Sendable {
    /// The generated client underneath, for anything not wrapped here.
    public let client: SanjeevaniClient

    public init(client: SanjeevaniClient) {
        self.client = client
    }

    /// Opens the client. With `secretStore` the session token lives there (the Keychain)
    /// instead of in the database file. `dataDir`: Application Support, excluded from backup.
    public static func open(baseUrl: String, dataDir: String, secretStore: SecretStore? = nil) async throws -> Sanjeevani {
        try await Task.detached {
            let client: SanjeevaniClient
            if let secretStore {
                client = try SanjeevaniClient.withSecretStore(baseUrl: baseUrl, dataDir: dataDir, secretStore: secretStore)
            } else {
                client = try SanjeevaniClient(baseUrl: baseUrl, dataDir: dataDir)
            }
            return Sanjeevani(client: client)
        }.value
    }

    private func io<T: Sendable>(_ call: @escaping @Sendable (SanjeevaniClient) throws -> T) async throws -> T {
        let client = self.client
        return try await Task.detached { try call(client) }.value
    }

    // Signing in and the account.
    public func requestOtpPhone(_ phone: String) async throws -> OtpSent { try await io { try $0.requestOtpPhone(phone: phone) } }
    public func requestOtpEmail(_ email: String) async throws -> OtpSent { try await io { try $0.requestOtpEmail(email: email) } }
    public func verifyOtpPhone(_ phone: String, code: String, deviceName: String? = nil) async throws -> SignedIn {
        try await io { try $0.verifyOtpPhone(phone: phone, code: code, deviceName: deviceName) }
    }
    public func verifyOtpEmail(_ email: String, code: String, deviceName: String? = nil) async throws -> SignedIn {
        try await io { try $0.verifyOtpEmail(email: email, code: code, deviceName: deviceName) }
    }
    public func loginStaff(_ username: String, password: String, deviceName: String? = nil) async throws -> SignedIn {
        try await io { try $0.loginStaff(username: username, password: password, deviceName: deviceName) }
    }
    public func isLoggedIn() async throws -> Bool { try await io { try $0.isLoggedIn() } }
    /// Who is signed in and with which role, without the network (nil: nobody).
    public func cachedUser() async throws -> User? { try await io { try $0.cachedUser() } }
    public func currentUser() async throws -> User { try await io { try $0.currentUser() } }
    public func logout() async throws { try await io { try $0.logout() } }

    // The family.
    public func family() async throws -> [FamilyMember] { try await io { try $0.family() } }
    public func cachedFamily() async throws -> [FamilyMember] { try await io { try $0.cachedFamily() } }
    public func addFamilyMember(_ input: FamilyMemberInput) async throws -> FamilyMember { try await io { try $0.addFamilyMember(input: input) } }
    public func updateFamilyMember(id: String, _ input: FamilyMemberInput) async throws -> FamilyMember {
        try await io { try $0.updateFamilyMember(id: id, input: input) }
    }
    public func walkInOffers() async throws -> [WalkInOffer] { try await io { try $0.walkInOffers() } }
    public func acceptWalkIn(id: String, relation: String? = nil) async throws -> FamilyMember {
        try await io { try $0.acceptWalkIn(id: id, relation: relation) }
    }
    public func declineWalkIn(id: String) async throws { try await io { try $0.declineWalkIn(id: id) } }

    // Booking and the queue.
    public func listOpds() async throws -> [Opd] { try await io { try $0.listOpds() } }
    public func bookToken(sessionId: String, patientId: String, priorityReason: PriorityReason? = nil) async throws -> BookedToken {
        try await io { try $0.bookToken(sessionId: sessionId, patientId: patientId, priorityReason: priorityReason) }
    }
    public func retryPendingBookings() async throws -> [BookedToken] { try await io { try $0.retryPendingBookings() } }
    public func myTokens() async throws -> [BookedToken] { try await io { try $0.myTokens() } }
    public func token(_ tokenId: String) async throws -> BookedToken { try await io { try $0.token(tokenId: tokenId) } }
    public func cancelToken(_ tokenId: String) async throws -> BookedToken { try await io { try $0.cancelToken(tokenId: tokenId) } }
    public func joinConsultation(_ tokenId: String) async throws -> BookedToken { try await io { try $0.joinConsultation(tokenId: tokenId) } }
    public func queueStatus(_ tokenId: String) async throws -> QueueUpdate { try await io { try $0.queueStatus(tokenId: tokenId) } }

    /// The token's status: each change as the server pushes it, every step in order, a `stale`
    /// one while offline. Finishes once the token is completed or cancelled; throws the error
    /// that ended the watch (NotFound, SessionEnded, NotSignedIn, Closed). Leaving the `for try
    /// await` loop stops the watch.
    public func queueUpdates(_ tokenId: String) -> AsyncThrowingStream<QueueUpdate, Error> {
        AsyncThrowingStream(bufferingPolicy: .unbounded) { continuation in
            final class Relay: QueueListener, @unchecked Sendable {
                let continuation: AsyncThrowingStream<QueueUpdate, Error>.Continuation
                init(_ continuation: AsyncThrowingStream<QueueUpdate, Error>.Continuation) { self.continuation = continuation }
                func onStatus(update: QueueUpdate) {
                    continuation.yield(update)
                    if update.status == .completed || update.status == .cancelled { continuation.finish() }
                }
                func onError(error: MobileError) {
                    if case .Network = error { return }
                    continuation.finish(throwing: error)
                }
            }
            do {
                let watch = try client.watchQueue(tokenId: tokenId, listener: Relay(continuation))
                continuation.onTermination = { _ in watch.stop() }
            } catch {
                continuation.finish(throwing: error)
            }
        }
    }

    // Doctors.
    public func setOnline(opdId: String, online: Bool) async throws -> DoctorPresence { try await io { try $0.setOnline(opdId: opdId, online: online) } }
    public func heartbeat() async throws { try await io { try $0.heartbeat() } }
    public func sessionQueue(_ sessionId: String) async throws -> [WaitingPatient] { try await io { try $0.sessionQueue(sessionId: sessionId) } }
    public func callNext(_ sessionId: String) async throws -> BookedToken { try await io { try $0.callNext(sessionId: sessionId) } }
    public func startConsultation(_ tokenId: String) async throws -> BookedToken { try await io { try $0.startConsultation(tokenId: tokenId) } }
    public func completeConsultation(_ tokenId: String) async throws -> BookedToken { try await io { try $0.completeConsultation(tokenId: tokenId) } }
    public func markNoShow(_ tokenId: String) async throws -> BookedToken { try await io { try $0.markNoShow(tokenId: tokenId) } }

    // Prescriptions (reading works offline) and the pharmacy.
    public func syncPrescriptions() async throws -> [PrescriptionSummary] { try await io { try $0.syncPrescriptions() } }
    public func prescriptions() async throws -> [PrescriptionSummary] { try await io { try $0.prescriptions() } }
    public func openPrescription(_ id: String) async throws -> PrescriptionDetail { try await io { try $0.openPrescription(id: id) } }
    public func verifyScanned(_ scanned: String) async throws -> ScannedPrescription { try await io { try $0.verifyScanned(scanned: scanned) } }
    public func checkPrescription(_ codeOrQr: String) async throws -> PharmacyCheck { try await io { try $0.checkPrescription(codeOrQr: codeOrQr) } }

    /// Enters the call's room: the session (send offers, answers, ICE and chat with it) and the
    /// stream of what happens there, which finishes when the call ends; ending the loop leaves.
    public func joinCall(_ tokenId: String) async throws -> (CallSession, AsyncStream<CallSignal>) {
        var relayContinuation: AsyncStream<CallSignal>.Continuation!
        let signals = AsyncStream<CallSignal>(bufferingPolicy: .unbounded) { relayContinuation = $0 }
        final class Relay: CallListener, @unchecked Sendable {
            let continuation: AsyncStream<CallSignal>.Continuation
            init(_ continuation: AsyncStream<CallSignal>.Continuation) { self.continuation = continuation }
            func onSignal(signal: CallSignal) {
                continuation.yield(signal)
                switch signal {
                case .ended, .refused: continuation.finish()
                default: break
                }
            }
        }
        let relay = Relay(relayContinuation)
        let session = try await io { try $0.joinCall(tokenId: tokenId, listener: relay) }
        relayContinuation.onTermination = { _ in session.leave() }
        return (session, signals)
    }

    /// Ends this client's work: every later call fails at once with MobileError.Closed.
    public func close() {
        client.cancelAll()
    }
}

// The Kotlin-facing layer shipped with the generated bindings: suspend functions instead of
// blocking calls, and Flows instead of listeners. Compile it with the generated Kotlin and
// kotlinx-coroutines-core (bindings/test.sh does, on the JVM).
//
// Every generated call blocks its thread until the server answers (or the client's deadline,
// 10 s by default, passes). Here each runs on `dispatcher` (Dispatchers.IO unless the app
// passes another), so it can be called from the main thread's coroutines. Cancelling the
// coroutine stops waiting at once; the blocking call itself ends at its deadline, and its
// answer is dropped. `close()` makes every later call fail at once with MobileException.Closed.

package org.sanjeevani.mobile.coroutines

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.emitAll
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.withContext
import org.sanjeevani.mobile.CallListener
import org.sanjeevani.mobile.CallSession
import org.sanjeevani.mobile.CallSignal
import org.sanjeevani.mobile.ConsultationNote
import org.sanjeevani.mobile.DispenseQuantity
import org.sanjeevani.mobile.FamilyMemberInput
import org.sanjeevani.mobile.Language
import org.sanjeevani.mobile.Medicine
import org.sanjeevani.mobile.MobileException
import org.sanjeevani.mobile.PriorityReason
import org.sanjeevani.mobile.QueueListener
import org.sanjeevani.mobile.QueueUpdate
import org.sanjeevani.mobile.SanjeevaniClient
import org.sanjeevani.mobile.SecretStore

/**
 * The Sanjeevani client for coroutines. Open it once (an Application-scoped singleton) with
 * the server's address and a private directory kept out of backups:
 *
 * ```
 * val sanjeevani = Sanjeevani.open("https://sanjeevani.example.in", context.noBackupFilesDir.path)
 * lifecycleScope.launch {
 *     sanjeevani.requestOtpPhone("+919876543210")
 *     sanjeevani.verifyOtpPhone("+919876543210", code, "Redmi 12")
 *     sanjeevani.queueUpdates(tokenId).collect { update -> show(update) }
 * }
 * ```
 *
 * Failures are thrown as [MobileException]; `error.userMessage()` (or `toString()`) is the
 * sentence to show.
 */
class Sanjeevani(
    /** The generated client underneath, for anything not wrapped here. */
    val client: SanjeevaniClient,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    companion object {
        /**
         * Opens the client (it opens its database file, so this runs on [dispatcher] too).
         * With [secretStore] the session token lives there (Android Keystore, iOS Keychain)
         * instead of in the database file.
         */
        suspend fun open(
            baseUrl: String,
            dataDir: String,
            secretStore: SecretStore? = null,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): Sanjeevani = withContext(dispatcher) {
            val client = if (secretStore == null) {
                SanjeevaniClient(baseUrl, dataDir)
            } else {
                SanjeevaniClient.withSecretStore(baseUrl, dataDir, secretStore)
            }
            Sanjeevani(client, dispatcher)
        }
    }

    private suspend fun <T> io(call: SanjeevaniClient.() -> T): T = withContext(dispatcher) { client.call() }

    // Signing in and the account.
    suspend fun requestOtpPhone(phone: String) = io { this.requestOtpPhone(phone) }
    suspend fun requestOtpEmail(email: String) = io { this.requestOtpEmail(email) }
    suspend fun verifyOtpPhone(phone: String, code: String, deviceName: String? = null) =
        io { this.verifyOtpPhone(phone, code, deviceName) }
    suspend fun verifyOtpEmail(email: String, code: String, deviceName: String? = null) =
        io { this.verifyOtpEmail(email, code, deviceName) }
    suspend fun loginStaff(username: String, password: String, deviceName: String? = null) =
        io { this.loginStaff(username, password, deviceName) }
    suspend fun isLoggedIn() = io { this.isLoggedIn() }
    /** Who is signed in and with which role, without the network (null: nobody). */
    suspend fun cachedUser() = io { this.cachedUser() }
    suspend fun currentUser() = io { this.currentUser() }
    suspend fun logout() = io { this.logout() }

    // The family.
    suspend fun family() = io { this.family() }
    suspend fun cachedFamily() = io { this.cachedFamily() }
    suspend fun addFamilyMember(input: FamilyMemberInput) = io { this.addFamilyMember(input) }
    suspend fun updateFamilyMember(id: String, input: FamilyMemberInput) = io { this.updateFamilyMember(id, input) }
    suspend fun walkInOffers() = io { this.walkInOffers() }
    suspend fun acceptWalkIn(id: String, relation: String? = null) = io { this.acceptWalkIn(id, relation) }
    suspend fun declineWalkIn(id: String) = io { this.declineWalkIn(id) }

    // Booking and the queue.
    suspend fun listOpds() = io { this.listOpds() }
    suspend fun bookToken(sessionId: String, patientId: String, priorityReason: PriorityReason? = null) =
        io { this.bookToken(sessionId, patientId, priorityReason) }
    suspend fun retryPendingBookings() = io { this.retryPendingBookings() }
    suspend fun pendingBookingCount() = io { this.pendingBookingCount() }
    suspend fun myTokens() = io { this.myTokens() }
    suspend fun token(tokenId: String) = io { this.token(tokenId) }
    suspend fun cancelToken(tokenId: String) = io { this.cancelToken(tokenId) }
    suspend fun joinConsultation(tokenId: String) = io { this.joinConsultation(tokenId) }
    suspend fun queueStatus(tokenId: String) = io { this.queueStatus(tokenId) }

    /**
     * The token's status: each change as the server pushes it, every step in order (none
     * skipped), a `stale` one while offline. Completes once the token is completed or
     * cancelled; throws the [MobileException] that ended the watch (NotFound, SessionEnded,
     * NotSignedIn, Closed). Offline (`Network`) it keeps going. Collect it in the screen's
     * scope: leaving the scope stops the watch.
     */
    fun queueUpdates(tokenId: String): Flow<QueueUpdate> = callbackFlow {
        val watch = client.watchQueue(tokenId, object : QueueListener {
            override fun onStatus(update: QueueUpdate) {
                trySend(update)
                if (update.status.isFinal()) channel.close()
            }

            override fun onError(error: MobileException) {
                if (error !is MobileException.Network) channel.close(error)
            }
        })
        awaitClose { watch.stop() }
    }.buffer(Channel.UNLIMITED)

    // Doctors.
    suspend fun setOnline(opdId: String, online: Boolean) = io { this.setOnline(opdId, online) }
    suspend fun heartbeat() = io { this.heartbeat() }
    suspend fun sessionQueue(sessionId: String) = io { this.sessionQueue(sessionId) }
    suspend fun callNext(sessionId: String) = io { this.callNext(sessionId) }
    suspend fun startConsultation(tokenId: String) = io { this.startConsultation(tokenId) }
    suspend fun completeConsultation(tokenId: String) = io { this.completeConsultation(tokenId) }
    suspend fun markNoShow(tokenId: String) = io { this.markNoShow(tokenId) }
    suspend fun recordConsultation(tokenId: String, note: ConsultationNote) = io { this.recordConsultation(tokenId, note) }
    suspend fun issuePrescription(consultationId: String, medicines: List<Medicine>, validityDays: Int? = null) =
        io { this.issuePrescription(consultationId, medicines, validityDays) }

    // Prescriptions (reading works offline) and the pharmacy.
    suspend fun syncPrescriptions() = io { this.syncPrescriptions() }
    suspend fun prescriptions() = io { this.prescriptions() }
    suspend fun openPrescription(id: String) = io { this.openPrescription(id) }
    suspend fun renderPrescription(id: String, language: Language) = io { this.renderPrescription(id, language) }
    suspend fun prescriptionQr(id: String) = io { this.prescriptionQr(id) }
    suspend fun refreshIssuerKeys() = io { this.refreshIssuerKeys() }
    suspend fun verifyScanned(scanned: String) = io { this.verifyScanned(scanned) }
    suspend fun checkPrescription(codeOrQr: String) = io { this.checkPrescription(codeOrQr) }
    suspend fun dispense(code: String, quantities: List<DispenseQuantity>) = io { this.dispense(code, quantities) }

    // The consultation call.
    suspend fun callIceServers(tokenId: String) = io { this.callIceServers(tokenId) }

    /**
     * Enters the call's room: returns the session (send offers, answers, ICE and chat with it)
     * and the Flow of what happens there. The Flow completes when the call ends (`Ended`,
     * `Refused`); cancelling its collector leaves the call.
     */
    suspend fun joinCall(tokenId: String): Pair<CallSession, Flow<CallSignal>> {
        val signals = Channel<CallSignal>(Channel.UNLIMITED)
        val session = io {
            this.joinCall(tokenId, object : CallListener {
                override fun onSignal(signal: CallSignal) {
                    signals.trySend(signal)
                    if (signal is CallSignal.Ended || signal is CallSignal.Refused) signals.close()
                }
            })
        }
        val flow = flow {
            try {
                emitAll(signals)
            } finally {
                withContext(NonCancellable + dispatcher) { session.leave() }
            }
        }
        return session to flow
    }

    /** Ends this client's work: every later call fails at once with MobileException.Closed. */
    override fun close() {
        client.cancelAll()
    }
}

private fun org.sanjeevani.mobile.TokenStatus.isFinal() =
    this == org.sanjeevani.mobile.TokenStatus.COMPLETED || this == org.sanjeevani.mobile.TokenStatus.CANCELLED

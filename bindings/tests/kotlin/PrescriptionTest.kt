// The prescription story through the generated Kotlin on the JVM: a patient books and watches
// the queue while the doctor calls, records the consultation and issues a prescription; the
// patient syncs; the server is stopped and the patient still lists, opens and verifies the
// prescription, and a pharmacist verifies its QR code, all offline; the server comes back and
// the pharmacist dispenses. Plus booking a full session and a tampered QR code.

import org.sanjeevani.mobile.ConsultationNote
import org.sanjeevani.mobile.DispenseQuantity
import org.sanjeevani.mobile.Language
import org.sanjeevani.mobile.Medicine
import org.sanjeevani.mobile.MedicineTiming
import org.sanjeevani.mobile.MobileException
import org.sanjeevani.mobile.PharmacyStatus
import org.sanjeevani.mobile.PrescriptionState
import org.sanjeevani.mobile.SanjeevaniClient
import org.sanjeevani.mobile.SignatureCheck
import org.sanjeevani.mobile.TokenStatus
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse

const val DEMO_PASSWORD = "sanjeevani-demo-2026"
const val SILIGURI_HUB = "00000000-0000-7000-8000-000000000102"
const val DR_GHOSH = "00000000-0000-7000-8000-000000001003"

val serverControl: String = System.getenv("SANJEEVANI_SERVER_CTL") ?: error("SANJEEVANI_SERVER_CTL is not set")

/** Stops or starts the test server (same port, same database) through bindings/tests/server-ctl.sh. */
fun server(action: String) {
    val process = ProcessBuilder("bash", serverControl, action).inheritIO().start()
    check(process.waitFor() == 0) { "server-ctl $action failed" }
}

fun staffClient(username: String): SanjeevaniClient {
    val client = SanjeevaniClient(baseUrl, newDataDir())
    client.loginStaff(username, DEMO_PASSWORD)
    return client
}

/** A plain HTTP POST for what the phone app does not do (an administrator's setup). */
fun postJson(path: String, body: String, token: String? = null): String {
    val request = HttpRequest.newBuilder(URI.create("$baseUrl/api/v1$path"))
        .header("content-type", "application/json")
        .apply { if (token != null) header("authorization", "Bearer $token") }
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build()
    val answer = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString())
    check(answer.statusCode() in 200..299) { "POST $path: ${answer.statusCode()} ${answer.body()}" }
    return answer.body()
}

fun jsonString(json: String, key: String): String =
    Regex(""""$key"\s*:\s*"([^"]*)"""").find(json)?.groupValues?.get(1) ?: error("no $key in $json")

/** An administrator creates an always-open OPD with `capacity` tokens per session. */
fun smallRoundTheClockOpd(code: String, capacity: Int): String {
    val admin = jsonString(postJson("/auth/login", """{"username":"admin.wb","password":"$DEMO_PASSWORD"}"""), "token")
    val opd = postJson(
        "/admin/opds",
        """{"hub_id":"$SILIGURI_HUB","code":"$code","name":"Small OPD $code","specialty":"General Medicine",
           "languages":["bn","en"],"always_open":true,"schedule":[],"capacity_per_session":$capacity,
           "booking_days_ahead":0,"priority_every":0,"doctor_ids":["$DR_GHOSH"]}""",
        admin,
    )
    return jsonString(opd, "id")
}

val medicines = listOf(
    Medicine(
        medicine = "Amlodipine", form = "tablet", strength = "5 mg", dose = "1 tablet",
        frequency = "once daily", timing = MedicineTiming.AFTER_FOOD, route = "oral", durationDays = 30,
        quantity = 30, instructions = "Check blood pressure weekly",
    ),
    // Written in Bengali by the doctor: kept as written in every language.
    Medicine(
        medicine = "প্যারাসিটামল", form = "tablet", strength = "500 mg", dose = "1 tablet",
        frequency = "when needed, at most 3 a day", timing = MedicineTiming.ANY, route = "oral",
        durationDays = 5, quantity = 10, instructions = "",
    ),
)

val note = ConsultationNote(
    chiefComplaint = "Headache and dizziness for 3 days", history = "Known hypertensive",
    examination = "BP 160/100", provisionalDiagnosis = "Essential hypertension", icd10Code = "I10",
    investigations = "", advice = "Low salt diet", followUpOn = null, referralOpdId = null,
)

/** The QR text with one digit of the signed content changed. */
fun tampered(qr: String): String {
    val middle = qr.length / 2
    val digit = if (qr[middle] != '1') '1' else '2'
    return qr.substring(0, middle) + digit + qr.substring(middle + 1)
}

val prescriptionTests: List<Pair<String, () -> Unit>> = listOf(
    "a prescription goes from the consultation to the pharmacy with the server stopped between" to {
        val dataDir = newDataDir()
        val (asha, ashaId) = patientWithProfile("+917000000021", "Asha Das", dataDir)
        val session = todaysRoundTheClockSession(asha)
        val token = asha.bookToken(session, ashaId)

        val doctor = staffClient("dr.ghosh")
        doctor.setOnline(ROUND_THE_CLOCK, true)
        val listener = RecordingListener()
        val watch = asha.watchQueue(token.id, listener)
        val issued = try {
            while (true) {
                val called = doctor.callNext(session)
                doctor.startConsultation(called.id)
                if (called.id == token.id) break
                doctor.completeConsultation(called.id)
            }
            listener.waitFor("in consultation") { it.status == TokenStatus.IN_CONSULTATION }
            val record = doctor.recordConsultation(token.id, note)
            expect(record.tokenId == token.id && record.patientId == ashaId) { "record $record" }
            val issued = doctor.issuePrescription(record.id, medicines)
            expect(issued.state == PrescriptionState.ISSUED) { "issued $issued" }
            doctor.completeConsultation(token.id)
            listener.waitFor("completed") { it.status == TokenStatus.COMPLETED }
            issued
        } finally {
            watch.stop()
        }

        // The patient syncs while online; the pharmacist's phone fetches the issuer keys.
        val synced = asha.syncPrescriptions().single()
        expect(synced.id == issued.id && synced.code == issued.code) { "synced $synced, issued $issued" }
        val pharmacist = staffClient("pharmacist.college")
        expect(pharmacist.refreshIssuerKeys() >= 1) { "no issuer keys" }

        server("stop")
        try {
            // The app restarts with no network: everything below is read from the phone.
            val offline = SanjeevaniClient(baseUrl, dataDir)
            expectThrows<MobileException.Network> { offline.syncPrescriptions() }
            expect(offline.prescriptions() == listOf(synced)) { "offline list ${offline.prescriptions()}" }
            val opened = offline.openPrescription(synced.id)
            expect(opened.signature == SignatureCheck.VALID) { "signature ${opened.signature}" }
            expect(opened.items.map { it.medicine } == medicines) { "items ${opened.items}" }
            val hindi = offline.renderPrescription(synced.id, Language.HINDI)
            expect(hindi.startsWith("ई-पर्चा") && "खाने के बाद" in hindi && "প্যারাসিটামল" in hindi) { hindi }
            val bengali = offline.renderPrescription(synced.id, Language.BENGALI)
            expect("ডিজিটাল স্বাক্ষর: যাচাই করা হয়েছে" in bengali && "Amlodipine 5 mg" in bengali) { bengali }
            val qr = offline.prescriptionQr(synced.id)
            expect(qr == opened.qrText && qr.startsWith("sjv:/")) { "qr $qr" }

            // The pharmacist scans the QR code with no network.
            val scanned = pharmacist.verifyScanned(qr)
            expect(scanned.signature == SignatureCheck.VALID) { "scanned $scanned" }
            expect(scanned.signed?.code == synced.code && scanned.signed?.patientName == "Asha Das") { "scanned $scanned" }
            expect(scanned.signed?.medicines == medicines) { "scanned medicines ${scanned.signed?.medicines}" }
            val forged = pharmacist.verifyScanned(tampered(qr))
            expect(forged.signature == SignatureCheck.TAMPERED && forged.signed == null) { "forged $forged" }
            expectThrows<MobileException.Network> { pharmacist.checkPrescription(qr) }
        } finally {
            server("start")
        }

        val check = pharmacist.checkPrescription(asha.prescriptionQr(synced.id))
        expect(check.status == PharmacyStatus.VALID) { "check $check" }
        val amlodipine = check.prescription!!.items.first()
        expect(amlodipine.medicine.medicine == "Amlodipine" && amlodipine.remaining == 30) { "item $amlodipine" }
        val after = pharmacist.dispense(synced.code, listOf(DispenseQuantity(itemId = amlodipine.id, quantity = 10)))
        expect(after.items.first().dispensedQuantity == 10 && after.items.first().remaining == 20) { "after $after" }
        expect(pharmacist.checkPrescription(synced.code).status == PharmacyStatus.PARTLY_DISPENSED) { "not partly dispensed" }
        val tooMuch = expectThrows<MobileException.Conflict> {
            pharmacist.dispense(synced.code, listOf(DispenseQuantity(itemId = amlodipine.id, quantity = 21)))
        }
        expect(tooMuch.code == "exceeds_prescribed_quantity") { "code ${tooMuch.code}" }
        expect(asha.syncPrescriptions().single().state == PrescriptionState.PARTLY_DISPENSED) { "patient not told" }
    },
    "booking a full session throws Conflict session_full" to {
        val opdId = smallRoundTheClockOpd("FK", 1)
        val (asha, ashaId) = patientWithProfile("+917000000014", "Asha Das")
        val (ravi, raviId) = patientWithProfile("+917000000015", "Ravi Kumar")
        val session = asha.listOpds().single { it.id == opdId }.sessions.first()
        expect(session.tokensLeft == 1) { "session $session" }
        asha.bookToken(session.id, ashaId)
        val refused = expectThrows<MobileException.Conflict> { ravi.bookToken(session.id, raviId) }
        expect(refused.code == "session_full") { "code ${refused.code}" }
        expect(ravi.pendingBookingCount() == 0) { "a definite refusal left a booking to retry" }
    },
    "a mistyped code and a tampered QR code are refused" to {
        val pharmacist = staffClient("pharmacist.college")
        pharmacist.refreshIssuerKeys()
        val mistyped = expectThrows<MobileException.Validation> { pharmacist.checkPrescription("ABCDE-FGHIJ-0") }
        expect(mistyped.fields.single().code == "invalid_check_character") { "fields ${mistyped.fields}" }
        expect(pharmacist.verifyScanned("sjv:/0123").signature == SignatureCheck.TAMPERED) { "short QR" }
        expectThrows<MobileException.NotFound> { pharmacist.openPrescription("no-such-prescription") }
    },
)

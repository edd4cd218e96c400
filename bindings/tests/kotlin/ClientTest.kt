// The generated Kotlin bindings on the JVM, driving the real library against a real running
// API server (started by bindings/test.sh). OTP codes are read from the server's console
// output, which the script captures to a file. A plain main: it prints one line per test and
// `N passed, N failed` last, and exits non-zero when a test failed.

import org.sanjeevani.mobile.FamilyMemberInput
import org.sanjeevani.mobile.Language
import org.sanjeevani.mobile.MobileException
import org.sanjeevani.mobile.QueueListener
import org.sanjeevani.mobile.QueueUpdate
import org.sanjeevani.mobile.TokenStatus
import org.sanjeevani.mobile.Role
import org.sanjeevani.mobile.SanjeevaniClient
import org.sanjeevani.mobile.Sex
import java.io.File
import java.net.ServerSocket
import java.nio.file.Files
import java.time.Instant
import kotlin.system.exitProcess

val baseUrl: String = System.getenv("SANJEEVANI_BASE_URL") ?: error("SANJEEVANI_BASE_URL is not set")
val serverLog = File(System.getenv("SANJEEVANI_SERVER_LOG") ?: error("SANJEEVANI_SERVER_LOG is not set"))

/** Every code the server printed for `phone`, oldest first. */
fun codesPrintedFor(phone: String): List<String> =
    Regex("""\[console sms to ${Regex.escape(phone)}\] (\d{6}) """)
        .findAll(serverLog.readText())
        .map { it.groupValues[1] }
        .toList()

/** Asks for a code and returns it once the server has printed it. */
fun requestCode(client: SanjeevaniClient, phone: String): String {
    val before = codesPrintedFor(phone).size
    val sent = client.requestOtpPhone(phone)
    check(sent.channel == "sms") { "channel ${sent.channel}" }
    repeat(100) {
        val codes = codesPrintedFor(phone)
        if (codes.size > before) return codes.last()
        Thread.sleep(100)
    }
    error("no code for $phone in $serverLog")
}

fun newDataDir(): String = Files.createTempDirectory("sanjeevani-kotlin-").toString()

/** An address where nothing listens, as if the phone were offline. */
fun unreachableUrl(): String {
    val port = ServerSocket(0).use { it.localPort }
    return "http://127.0.0.1:$port"
}

fun loggedIn(phone: String, dataDir: String = newDataDir()): SanjeevaniClient {
    val client = SanjeevaniClient(baseUrl, dataDir)
    val code = requestCode(client, phone)
    client.verifyOtpPhone(phone, code, "JVM test")
    return client
}

fun person(name: String, sex: Sex, relation: String? = null) =
    FamilyMemberInput(name = name, sex = sex, preferredLanguage = Language.BENGALI, birthYear = 1990, relation = relation)

fun expect(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

inline fun <reified T : Throwable> expectThrows(block: () -> Unit): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionError("expected ${T::class.simpleName}, got $e", e)
    }
    throw AssertionError("expected ${T::class.simpleName}, nothing was thrown")
}

/** The demo's round-the-clock OPD `AC` (Siliguri hub, dr.ghosh). */
const val ROUND_THE_CLOCK = "00000000-0000-7000-8000-000000002003"

/** The app's side of watchQueue: called on the watch's own thread. */
class RecordingListener : QueueListener {
    val updates = java.util.concurrent.CopyOnWriteArrayList<QueueUpdate>()
    val errors = java.util.concurrent.CopyOnWriteArrayList<MobileException>()

    override fun onStatus(update: QueueUpdate) {
        updates.add(update)
    }

    override fun onError(error: MobileException) {
        errors.add(error)
    }

    fun waitFor(what: String, wanted: (QueueUpdate) -> Boolean): QueueUpdate {
        repeat(400) {
            updates.firstOrNull(wanted)?.let { return it }
            Thread.sleep(50)
        }
        error("no update $what: $updates, errors $errors")
    }
}

/** A logged-in patient with the holder's profile; returns the client and the patient id. */
fun patientWithProfile(phone: String, name: String, dataDir: String = newDataDir()): Pair<SanjeevaniClient, String> {
    val client = loggedIn(phone, dataDir)
    return client to client.addFamilyMember(person(name, Sex.FEMALE)).id
}

fun todaysRoundTheClockSession(client: SanjeevaniClient): String {
    val opd = client.listOpds().single { it.id == ROUND_THE_CLOCK }
    expect(opd.code == "AC" && opd.alwaysOpen) { "opd $opd" }
    val session = opd.sessions.first()
    expect(session.tokensLeft > 0) { "session $session" }
    return session.id
}

val tests: List<Pair<String, () -> Unit>> = listOf(
    "logging in by phone OTP keeps the session on the device" to {
        val phone = "+917000000001"
        val dataDir = newDataDir()
        val client = SanjeevaniClient(baseUrl, dataDir)
        expect(!client.isLoggedIn()) { "logged in before logging in" }
        val code = requestCode(client, phone)
        val signedIn = client.verifyOtpPhone(phone, code)
        expect(signedIn.user.role == Role.PATIENT) { "role ${signedIn.user.role}" }
        expect(signedIn.user.phone == phone) { "phone ${signedIn.user.phone}" }
        expect(signedIn.expiresAt.isAfter(Instant.now())) { "expires ${signedIn.expiresAt}" }
        expect(client.isLoggedIn()) { "not logged in after verifying" }
        expect(client.currentUser().id == signedIn.user.id) { "another user" }
        // The app restarts on the same data directory: still logged in.
        val restarted = SanjeevaniClient(baseUrl, dataDir)
        expect(restarted.isLoggedIn()) { "session lost on restart" }
    },
    "a wrong OTP throws OtpRejected" to {
        val phone = "+917000000002"
        val client = SanjeevaniClient(baseUrl, newDataDir())
        val right = requestCode(client, phone)
        val wrong = if (right == "000000") "111111" else "000000"
        expectThrows<MobileException.OtpRejected> { client.verifyOtpPhone(phone, wrong) }
        expect(!client.isLoggedIn()) { "logged in with a wrong code" }
    },
    "an invalid phone throws Validation before any request" to {
        // Nothing listens there: a request would throw Network instead.
        val client = SanjeevaniClient(unreachableUrl(), newDataDir())
        val error = expectThrows<MobileException.Validation> { client.requestOtpPhone("12345") }
        expect(error.fields.single().field == "phone") { "fields ${error.fields}" }
        expect(error.fields.single().code == "invalid_phone") { "fields ${error.fields}" }
        expect(error.reason.isNotEmpty()) { "no reason" }
    },
    "the holder and a family member with a Bengali name are added and listed" to {
        val client = loggedIn("+917000000003")
        val holder = client.addFamilyMember(person("Asha Das", Sex.FEMALE))
        expect(holder.relation == "self") { "relation ${holder.relation}" }
        val mother = client.addFamilyMember(
            FamilyMemberInput(
                name = "সুমিতা দাস",
                sex = Sex.FEMALE,
                preferredLanguage = Language.BENGALI,
                birthDate = "1958-03-14",
                abhaNumber = "12345678901234",
                relation = "mother",
            ),
        )
        expect(mother.name == "সুমিতা দাস") { "name came back as ${mother.name}" }
        expect(mother.name.codePointCount(0, mother.name.length) == 10) { "code points of ${mother.name}" }
        expect(mother.birthDate == "1958-03-14") { "birth date ${mother.birthDate}" }
        expect(mother.abhaNumber == "12-3456-7890-1234") { "ABHA ${mother.abhaNumber}" }
        val family = client.family()
        expect(family.map { it.name } == listOf("Asha Das", "সুমিতা দাস")) { "family ${family.map { it.name }}" }
        expect(family[1] == mother) { "listed ${family[1]} != added $mother" }
        expect(client.currentUser().name == "Asha Das") { "account name" }
    },
    "a family member is updated" to {
        val client = loggedIn("+917000000004")
        client.addFamilyMember(person("Asha Das", Sex.FEMALE))
        val son = client.addFamilyMember(person("রাহুল", Sex.MALE, "son"))
        val updated = client.updateFamilyMember(son.id, person("রাহুল দাস", Sex.MALE, "son").copy(preferredLanguage = Language.HINDI))
        expect(updated.id == son.id && updated.name == "রাহুল দাস") { "updated $updated" }
        expect(updated.preferredLanguage == Language.HINDI) { "language ${updated.preferredLanguage}" }
        expect(client.cachedFamily().map { it.name } == listOf("Asha Das", "রাহুল দাস")) { "cache ${client.cachedFamily()}" }
    },
    "the cached family is readable offline with the same data directory" to {
        val dataDir = newDataDir()
        val client = loggedIn("+917000000005", dataDir)
        client.addFamilyMember(person("Asha Das", Sex.FEMALE))
        client.addFamilyMember(person("সুমিতা দাস", Sex.FEMALE, "mother"))
        val online = client.family()
        val offline = SanjeevaniClient(unreachableUrl(), dataDir)
        expect(offline.cachedFamily() == online) { "cached ${offline.cachedFamily()} != $online" }
        expectThrows<MobileException.Network> { offline.family() }
        expect(offline.isLoggedIn()) { "a network failure logged the user out" }
    },
    "after logout the next call throws NotSignedIn" to {
        val client = loggedIn("+917000000006")
        client.family()
        client.logout()
        expect(!client.isLoggedIn()) { "still logged in" }
        expectThrows<MobileException.NotSignedIn> { client.currentUser() }
        expectThrows<MobileException.NotSignedIn> { client.family() }
        expect(client.cachedFamily().isEmpty()) { "family kept after logout" }
    },
    "a patient watches the queue while the doctor calls and completes" to {
        val (asha, ashaId) = patientWithProfile("+917000000011", "Asha Das")
        val (ravi, raviId) = patientWithProfile("+917000000012", "Ravi Kumar")
        val session = todaysRoundTheClockSession(asha)
        val first = asha.bookToken(session, ashaId)
        expect(first.status == TokenStatus.WAITING && first.display.startsWith("AC-")) { "first $first" }
        val mine = ravi.bookToken(session, raviId)
        expect(ravi.pendingBookingCount() == 0) { "a booking left pending" }
        expect(ravi.myTokens().map { it.id } == listOf(mine.id)) { "my tokens ${ravi.myTokens()}" }
        // Booking the same session again is refused (a full session: PrescriptionTest.kt).
        val refused = expectThrows<MobileException.Conflict> { ravi.bookToken(session, raviId) }
        expect(refused.code == "already_booked") { "code ${refused.code}" }

        val doctor = SanjeevaniClient(baseUrl, newDataDir())
        expect(doctor.loginStaff("dr.ghosh", "sanjeevani-demo-2026").user.role == Role.DOCTOR) { "not a doctor" }
        expect(doctor.setOnline(ROUND_THE_CLOCK, true).online) { "not online" }
        doctor.heartbeat()

        val listener = RecordingListener()
        val watch = ravi.watchQueue(mine.id, listener)
        try {
            val start = listener.waitFor("a first status") { it.position != null }
            expect(!start.stale && start.position!! >= 1) { "start $start" }
            // The doctor works through the queue until Ravi is called.
            while (true) {
                val called = doctor.callNext(session)
                if (called.id == mine.id) break
                doctor.startConsultation(called.id)
                doctor.completeConsultation(called.id)
            }
            listener.waitFor("called") { it.status == TokenStatus.CALLED }
            doctor.startConsultation(mine.id)
            expect(doctor.completeConsultation(mine.id).status == TokenStatus.COMPLETED) { "not completed" }
            listener.waitFor("completed") { it.status == TokenStatus.COMPLETED }
        } finally {
            watch.stop()
        }
        expect(!watch.isRunning()) { "the watch still runs" }
        val positions = listener.updates.mapNotNull { it.position }
        expect(positions == positions.sortedDescending()) { "positions $positions" }
        expect(listener.errors.isEmpty()) { "errors ${listener.errors}" }
    },
    "offline the watch reports the last status as stale" to {
        val dataDir = newDataDir()
        val (client, patientId) = patientWithProfile("+917000000013", "Asha Das", dataDir)
        val token = client.bookToken(todaysRoundTheClockSession(client), patientId)
        val fresh = client.queueStatus(token.id)
        expect(!fresh.stale) { "fresh $fresh" }
        val offline = SanjeevaniClient(unreachableUrl(), dataDir)
        val listener = RecordingListener()
        val watch = offline.watchQueue(token.id, listener)
        val stale = try {
            listener.waitFor("stale") { it.stale }
        } finally {
            watch.stop()
        }
        expect(stale.position == fresh.position && stale.asOf == fresh.asOf) { "stale $stale, fresh $fresh" }
        expect(listener.errors.first() is MobileException.Network) { "errors ${listener.errors}" }
        client.cancelToken(token.id)
    },
)

fun main() {
    var passed = 0
    var failed = 0
    for ((name, test) in tests + prescriptionTests + sdkTests) {
        try {
            test()
            passed++
            println("PASS $name")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
            e.printStackTrace(System.out)
        }
    }
    println("$passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}

// The SDK layer on the JVM: the app's secret store (a Kotlin implementation of SecretStore),
// the coroutine layer shipped in bindings/kotlin (suspend functions and the queue's Flow), and
// what an error looks like to Kotlin code.

import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.sanjeevani.mobile.MobileException
import org.sanjeevani.mobile.QueueUpdate
import org.sanjeevani.mobile.Role
import org.sanjeevani.mobile.SanjeevaniClient
import org.sanjeevani.mobile.SecretStore
import org.sanjeevani.mobile.Sex
import org.sanjeevani.mobile.TokenStatus
import org.sanjeevani.mobile.coroutines.Sanjeevani
import java.io.File
import java.util.concurrent.ConcurrentHashMap

/** What an app would back with the Android Keystore: here, a map that counts its calls. */
class MapSecretStore : SecretStore {
    val values = ConcurrentHashMap<String, String>()

    override fun read(key: String): String? = values[key]

    override fun write(key: String, value: String) {
        values[key] = value
    }

    override fun delete(key: String) {
        values.remove(key)
    }
}

/** Every byte under the data directory, as text (the database and its WAL). */
fun everythingStoredIn(dataDir: String): String =
    File(dataDir).walk().filter { it.isFile }.joinToString("\n") { String(it.readBytes(), Charsets.ISO_8859_1) }

val sdkTests: List<Pair<String, () -> Unit>> = listOf(
    "with the app's secret store the token is kept there and never in the data directory" to {
        val phone = "+917000000041"
        val dataDir = newDataDir()
        val keystore = MapSecretStore()
        val client = SanjeevaniClient.withSecretStore(baseUrl, dataDir, keystore)
        client.verifyOtpPhone(phone, requestCode(client, phone), "JVM test")
        val token = keystore.values.values.single()
        expect(token.length >= 32) { "token $token" }
        expect(!everythingStoredIn(dataDir).contains(token)) { "the token is in the data directory" }
        expect(client.currentUser().phone == phone) { "the session does not work" }
        // The app restarts: the same keystore signs it in; without it nobody is signed in,
        // though who was stays readable offline.
        expect(SanjeevaniClient.withSecretStore(baseUrl, dataDir, keystore).isLoggedIn()) { "lost on restart" }
        val withoutKeystore = SanjeevaniClient(baseUrl, dataDir)
        expect(!withoutKeystore.isLoggedIn()) { "signed in without the keystore" }
        expect(withoutKeystore.cachedUser()?.role == Role.PATIENT) { "cached user ${withoutKeystore.cachedUser()}" }
        client.logout()
        expect(keystore.values.isEmpty()) { "the token outlived the logout: ${keystore.values.keys}" }
    },
    "a token stored in the file moves into the app's secret store" to {
        val phone = "+917000000042"
        val dataDir = newDataDir()
        val plain = loggedIn(phone, dataDir)
        val keystore = MapSecretStore()
        val sealed = SanjeevaniClient.withSecretStore(baseUrl, dataDir, keystore)
        expect(sealed.currentUser().phone == phone) { "not signed in" }
        val token = keystore.values.values.single()
        expect(!everythingStoredIn(dataDir).contains(token)) { "the token stayed in the file" }
        expect(!plain.isLoggedIn()) { "the file still holds a usable token" }
    },
    "an error reads as a sentence in Kotlin" to {
        val client = SanjeevaniClient(baseUrl, newDataDir())
        val error = expectThrows<MobileException.NotSignedIn> { client.family() }
        expect(error.reason.endsWith(".") && !error.reason.contains("=")) { "reason ${error.reason}" }
        expect(error.userMessage() == error.reason) { "userMessage ${error.userMessage()}" }
        // The Rust Display is the exception's toString(), what Log.e and crash reports print.
        expect(error.toString() == error.reason) { "toString $error" }
        // Throwable.message is uniffi's own "field=value" rendering.
        expect(error.message == "reason=${error.reason}") { "message ${error.message}" }
    },
    "the coroutine layer: suspend calls and the queue as a Flow with every step" to {
        runBlocking {
            val phone = "+917000000043"
            val patient = Sanjeevani.open(baseUrl, newDataDir())
            patient.verifyOtpPhone(phone, requestCode(patient.client, phone), "JVM test")
            val me = patient.addFamilyMember(person("Kajal Roy", Sex.FEMALE))
            expect(patient.cachedUser()?.role == Role.PATIENT) { "cached user" }
            val session = patient.listOpds().single { it.id == ROUND_THE_CLOCK }.sessions.first().id
            val mine = patient.bookToken(session, me.id)

            val doctor = Sanjeevani.open(baseUrl, newDataDir())
            doctor.loginStaff("dr.ghosh", "sanjeevani-demo-2026")
            doctor.setOnline(ROUND_THE_CLOCK, true)

            val seen = java.util.concurrent.CopyOnWriteArrayList<QueueUpdate>()
            val collecting = launch { patient.queueUpdates(mine.id).collect { seen.add(it) } }
            withTimeout(20_000) { while (seen.isEmpty()) delay(20) }
            // The doctor works through the queue; this patient is started and completed at once.
            while (true) {
                val called = doctor.callNext(session)
                if (called.id == mine.id) break
                doctor.startConsultation(called.id)
                doctor.completeConsultation(called.id)
            }
            doctor.startConsultation(mine.id)
            doctor.completeConsultation(mine.id)
            // The Flow completes by itself once the token is completed.
            withTimeout(60_000) { collecting.join() }
            val statuses = seen.map { it.status }
            val steps = statuses.fold(listOf<TokenStatus>()) { seen, s -> if (seen.lastOrNull() == s) seen else seen + s }
            expect(steps == listOf(TokenStatus.WAITING, TokenStatus.CALLED, TokenStatus.IN_CONSULTATION, TokenStatus.COMPLETED)) {
                "statuses $statuses"
            }
            patient.close()
            expectThrows<MobileException.Closed> { runBlocking { patient.myTokens() } }
        }
    },
)

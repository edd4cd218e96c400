# The patient's web app (`/app`).
app-nav = The app
app-nav-home = Home
app-nav-prescriptions = Prescriptions
app-nav-settings = Settings
app-sign-in-title = Sign in
app-sign-in-help = We send a 6-digit code to your mobile number (or email address). No password needed.
app-identifier = Mobile number or email address
app-staff-here = Staff: sign in here
app-code-sent = We sent a code by { $channel }. It is valid for { $minutes } minutes.
app-code-sent-sms = SMS
app-code-sent-email = email
app-code-again = Type the code from your last message again, or ask for a new one.
app-code = The 6-digit code
app-verify = Sign in
app-resend = Send a new code
app-signed-out = You are signed out
app-signed-out-help = Nothing of your account is kept on this device, prescriptions included.
app-home-title = Your consultations
app-book = Book a consultation
app-book-for = Book
app-edit = Edit
app-your-tokens = Your tokens
app-family = Your family
app-add-member = Add a family member
app-edit-member = Edit details
app-your-profile = About you
app-your-profile-help = Your details, once. Then you can book for yourself and your family.
app-relation = Relation to you
app-relation-self = you
app-relation-spouse = husband or wife
app-relation-mother = mother
app-relation-father = father
app-relation-son = son
app-relation-daughter = daughter
app-relation-grandparent = grandparent
app-relation-other = family member
app-language = Language for messages and prescriptions
app-abha = ABHA number (optional)
app-abha-address = ABHA address (optional)
app-abha-address-hint = Your ABDM health address, such as asha.das@abdm
app-who = Who is the consultation for?
app-priority = Needs priority?
app-priority-none = No
app-priority-pregnant = Pregnant
app-priority-disability = Person with disability
app-choose-opd = Choose an OPD and a time
app-no-opds = No OPD can be booked now. Please try again later.
app-booked-at = booked { $time }
app-ahead = { $count ->
    [0] You are next.
    [one] 1 person before you.
   *[other] { $count } people before you.
}
app-now-serving = Now serving: { $tokens }
app-doctors-online = { $count ->
    [0] No doctor online yet.
    [one] 1 doctor online.
   *[other] { $count } doctors online.
}
app-turn-near = Your turn is near. Keep this page open and be ready to join.
app-join = Join the consultation
app-join-by = Join before { $time } or you lose your turn.
app-completed = Your consultation is complete.
app-see-prescriptions = See the prescription
app-no-show = The call was missed. Please book again if you still need to see a doctor.
app-cancelled = This token is cancelled.
app-cancel = Cancel this token
app-cancel-confirm = Cancel this token? You will lose your place in the queue.
app-offline-help = A prescription you opened once opens again on this device without internet, until you sign out.
app-no-prescriptions = No prescriptions yet.
app-messages = Messages
app-optional-messages = Booking confirmations, turn reminders and prescriptions by SMS or email
app-essential-messages = Login codes and calls to join are always sent.
app-devices = Signed-in devices
app-device-unnamed = A device
app-this-device = this device
app-device-since = signed in { $time }
app-device-seen = last used { $time }
app-sign-out-others = Sign out all other devices
app-home-patient = Patients
app-home-patient-help = Book a consultation, follow your token, keep your prescriptions.
app-walk-ins = Registered at a health centre with your number
app-walk-in-offer = A health worker registered a visit of “{ $initial }…” at { $place } with this number.
app-walk-in-me = This is me
app-walk-in-add = Add to my family
app-walk-in-decline = Not my family
app-code-console = This is a demo server: the code is printed in its console, not sent.

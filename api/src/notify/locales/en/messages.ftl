# Patient-facing messages. Each message has a -subject (email) and a -text (SMS and email body).
# Keep texts short and plain: they are SMS first.

otp-subject = Your Sanjeevani login code
otp-text = {$code} is your Sanjeevani login code. Valid {$minutes} min. Never share it; staff will never ask for it.

token-booked-subject = Token {$token} booked
token-booked-text = Sanjeevani: token {$token} booked for {$opd}. Expected time {$time}. We will tell you when your turn is near. {$link}

turn-near-subject = Your turn is near
turn-near-text = Sanjeevani: your turn is near (token {$token}, {$opd}). Keep the app open and be ready to join. {$link}

called-subject = Join your consultation now
called-text = Sanjeevani: token {$token} is called. Join within {$minutes} min or you lose your turn. {$link}

no-show-subject = You missed your call
no-show-text = { $requeued ->
    [yes] Sanjeevani: you missed the call for token {$token}. You are back at the end of the queue.
   *[no] Sanjeevani: you missed the call for token {$token}. Please book again.
}

cancelled-subject = Token {$token} cancelled
cancelled-text = Sanjeevani: token {$token} for {$opd} is cancelled.

prescription-issued-subject = Your prescription is ready
prescription-issued-text = Sanjeevani: your prescription is ready. Code {$code}. Show it at a pharmacy. {$link}

prescription-dispensed-subject = Medicines given
prescription-dispensed-text = Sanjeevani: medicines for prescription {$code} were given on {$time}.

# What messages call the OPDs of a sensitive programme that set no wording of its own.
neutral-opd = the clinic

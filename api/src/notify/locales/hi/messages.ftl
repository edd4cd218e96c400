# मरीज़ों के लिए संदेश। छोटे और सरल: पहले SMS।

otp-subject = आपका संजीवनी लॉगिन कोड
otp-text = {$code} आपका संजीवनी कोड है। {$minutes} मिनट मान्य। किसी को न बताएं।

token-booked-subject = टोकन {$token} बुक हुआ
token-booked-text = संजीवनी: {$opd} के लिए टोकन {$token} बुक हुआ। अनुमानित समय {$time}। बारी पास आने पर हम बताएंगे। {$link}

turn-near-subject = आपकी बारी पास है
turn-near-text = संजीवनी: आपकी बारी पास है (टोकन {$token}, {$opd})। ऐप खुला रखें और जुड़ने को तैयार रहें। {$link}

called-subject = अभी परामर्श से जुड़ें
called-text = संजीवनी: टोकन {$token} बुलाया गया। {$minutes} मिनट में जुड़ें, वरना बारी चली जाएगी। {$link}

no-show-subject = आपकी बारी छूट गई
no-show-text = { $requeued ->
    [yes] संजीवनी: टोकन {$token} की बारी छूट गई। आप कतार में सबसे पीछे हैं।
   *[no] संजीवनी: टोकन {$token} की बारी छूट गई। कृपया फिर से बुक करें।
}

cancelled-subject = टोकन {$token} रद्द
cancelled-text = संजीवनी: {$opd} का टोकन {$token} रद्द हुआ।

prescription-issued-subject = आपका पर्चा तैयार है
prescription-issued-text = संजीवनी: आपका पर्चा तैयार है। कोड {$code}। इसे दवा दुकान पर दिखाएं। {$link}

prescription-dispensed-subject = दवाएं दी गईं
prescription-dispensed-text = संजीवनी: पर्चा {$code} की दवाएं {$time} को दी गईं।

# What messages call the OPDs of a sensitive programme that set no wording of its own.
neutral-opd = क्लिनिक

# রোগীদের জন্য বার্তা। ছোট ও সহজ: আগে SMS।

otp-subject = আপনার সঞ্জীবনী লগইন কোড
otp-text = {$code} আপনার সঞ্জীবনী কোড। {$minutes} মিনিট বৈধ। কাউকে বলবেন না।

token-booked-subject = টোকেন {$token} বুক হয়েছে
token-booked-text = সঞ্জীবনী: {$opd}-এর জন্য টোকেন {$token} বুক হয়েছে। আনুমানিক সময় {$time}। পালা কাছে এলে জানাব। {$link}

turn-near-subject = আপনার পালা কাছে
turn-near-text = সঞ্জীবনী: আপনার পালা কাছে (টোকেন {$token}, {$opd})। অ্যাপ খোলা রাখুন, যোগ দিতে তৈরি থাকুন। {$link}

called-subject = এখনই পরামর্শে যোগ দিন
called-text = সঞ্জীবনী: টোকেন {$token} ডাকা হয়েছে। {$minutes} মিনিটের মধ্যে যোগ দিন, না হলে পালা চলে যাবে। {$link}

no-show-subject = আপনার পালা চলে গেছে
no-show-text = { $requeued ->
    [yes] সঞ্জীবনী: টোকেন {$token}-এর ডাক মিস হয়েছে। আপনি সারির শেষে আছেন।
   *[no] সঞ্জীবনী: টোকেন {$token}-এর ডাক মিস হয়েছে। আবার বুক করুন।
}

cancelled-subject = টোকেন {$token} বাতিল
cancelled-text = সঞ্জীবনী: {$opd}-এর টোকেন {$token} বাতিল হয়েছে।

prescription-issued-subject = আপনার প্রেসক্রিপশন তৈরি
prescription-issued-text = সঞ্জীবনী: আপনার প্রেসক্রিপশন তৈরি। কোড {$code}। ওষুধের দোকানে দেখান। {$link}

prescription-dispensed-subject = ওষুধ দেওয়া হয়েছে
prescription-dispensed-text = সঞ্জীবনী: প্রেসক্রিপশন {$code}-এর ওষুধ {$time} তারিখে দেওয়া হয়েছে।

# What messages call the OPDs of a sensitive programme that set no wording of its own.
neutral-opd = ক্লিনিক

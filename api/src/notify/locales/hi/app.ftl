# The patient's web app (`/app`).
app-nav = ऐप
app-nav-home = होम
app-nav-prescriptions = पर्चे
app-nav-settings = सेटिंग्स
app-sign-in-title = साइन इन करें
app-sign-in-help = हम आपके मोबाइल नंबर (या ईमेल पते) पर 6 अंकों का कोड भेजते हैं। पासवर्ड की ज़रूरत नहीं।
app-identifier = मोबाइल नंबर या ईमेल पता
app-staff-here = स्टाफ़: यहाँ साइन इन करें
app-code-sent = हमने { $channel } से कोड भेजा है। यह { $minutes } मिनट तक मान्य है।
app-code-sent-sms = SMS
app-code-sent-email = ईमेल
app-code-again = अपने पिछले संदेश का कोड फिर से लिखें, या नया कोड मँगाएँ।
app-code = 6 अंकों का कोड
app-verify = साइन इन करें
app-resend = नया कोड भेजें
app-signed-out = आप साइन आउट हो गए हैं
app-signed-out-help = आपके खाते का कुछ भी इस डिवाइस पर नहीं रखा गया है, पर्चे भी नहीं।
app-home-title = आपके परामर्श
app-book = परामर्श बुक करें
app-book-for = बुक करें
app-edit = बदलें
app-your-tokens = आपके टोकन
app-family = आपका परिवार
app-add-member = परिवार का सदस्य जोड़ें
app-edit-member = विवरण बदलें
app-your-profile = आपके बारे में
app-your-profile-help = अपना विवरण एक बार दें। फिर आप अपने और अपने परिवार के लिए बुक कर सकते हैं।
app-relation = आपसे संबंध
app-relation-self = आप
app-relation-spouse = पति या पत्नी
app-relation-mother = माँ
app-relation-father = पिता
app-relation-son = बेटा
app-relation-daughter = बेटी
app-relation-grandparent = दादा-दादी या नाना-नानी
app-relation-other = परिवार का सदस्य
app-language = संदेशों और पर्चों की भाषा
app-abha = ABHA नंबर (वैकल्पिक)
app-abha-address = ABHA पता (वैकल्पिक)
app-abha-address-hint = आपका ABDM स्वास्थ्य पता, जैसे asha.das@abdm
app-who = परामर्श किसके लिए है?
app-priority = प्राथमिकता चाहिए?
app-priority-none = नहीं
app-priority-pregnant = गर्भवती
app-priority-disability = दिव्यांग व्यक्ति
app-choose-opd = OPD और समय चुनें
app-no-opds = अभी कोई OPD बुक नहीं हो सकती। कृपया बाद में फिर कोशिश करें।
app-booked-at = बुक किया { $time }
app-ahead = { $count ->
    [0] अगली बारी आपकी है।
    [one] आपसे पहले 1 व्यक्ति।
   *[other] आपसे पहले { $count } लोग।
}
app-now-serving = अभी देखे जा रहे हैं: { $tokens }
app-doctors-online = { $count ->
    [0] अभी कोई डॉक्टर ऑनलाइन नहीं।
    [one] 1 डॉक्टर ऑनलाइन।
   *[other] { $count } डॉक्टर ऑनलाइन।
}
app-turn-near = आपकी बारी आने वाली है। यह पेज खुला रखें और जुड़ने के लिए तैयार रहें।
app-join = परामर्श में जुड़ें
app-join-by = { $time } से पहले जुड़ें, नहीं तो आपकी बारी चली जाएगी।
app-completed = आपका परामर्श पूरा हो गया।
app-see-prescriptions = पर्चा देखें
app-no-show = कॉल छूट गई। अगर अब भी डॉक्टर को दिखाना है तो फिर से बुक करें।
app-cancelled = यह टोकन रद्द है।
app-cancel = यह टोकन रद्द करें
app-cancel-confirm = यह टोकन रद्द करें? कतार में आपकी जगह चली जाएगी।
app-offline-help = जो पर्चा आपने एक बार खोला, वह इस डिवाइस पर बिना इंटरनेट के फिर खुलता है, जब तक आप साइन आउट न करें।
app-no-prescriptions = अभी कोई पर्चा नहीं।
app-messages = संदेश
app-optional-messages = बुकिंग की पुष्टि, बारी की याद और पर्चे SMS या ईमेल से
app-essential-messages = लॉगिन कोड और जुड़ने की सूचना हमेशा भेजी जाती है।
app-devices = साइन इन किए हुए डिवाइस
app-device-unnamed = एक डिवाइस
app-this-device = यह डिवाइस
app-device-since = साइन इन { $time }
app-device-seen = आख़िरी उपयोग { $time }
app-sign-out-others = बाकी सभी डिवाइस से साइन आउट करें
app-home-patient = मरीज़
app-home-patient-help = परामर्श बुक करें, अपना टोकन देखें, अपने पर्चे रखें।
app-walk-ins = आपके नंबर से स्वास्थ्य केंद्र पर पंजीकरण
app-walk-in-offer = एक स्वास्थ्य कार्यकर्ता ने इस नंबर से “{ $initial }…” की मुलाक़ात { $place } पर दर्ज की।
app-walk-in-me = यह मैं हूँ
app-walk-in-add = मेरे परिवार में जोड़ें
app-walk-in-decline = मेरे परिवार का नहीं
app-code-console = यह डेमो सर्वर है: कोड भेजा नहीं जाता, उसके कंसोल पर छपता है।

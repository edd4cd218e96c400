# The patient's web app (`/app`).
app-nav = অ্যাপ
app-nav-home = হোম
app-nav-prescriptions = প্রেসক্রিপশন
app-nav-settings = সেটিংস
app-sign-in-title = সাইন ইন করুন
app-sign-in-help = আমরা আপনার মোবাইল নম্বরে (বা ইমেল ঠিকানায়) ৬ অঙ্কের একটি কোড পাঠাই। পাসওয়ার্ড লাগে না।
app-identifier = মোবাইল নম্বর বা ইমেল ঠিকানা
app-staff-here = কর্মী: এখানে সাইন ইন করুন
app-code-sent = আমরা { $channel } দিয়ে কোড পাঠিয়েছি। এটি { $minutes } মিনিট বৈধ।
app-code-sent-sms = SMS
app-code-sent-email = ইমেল
app-code-again = আপনার শেষ বার্তার কোডটি আবার লিখুন, বা নতুন কোড চান।
app-code = ৬ অঙ্কের কোড
app-verify = সাইন ইন করুন
app-resend = নতুন কোড পাঠান
app-signed-out = আপনি সাইন আউট করেছেন
app-signed-out-help = আপনার অ্যাকাউন্টের কিছুই এই ডিভাইসে রাখা হয়নি, প্রেসক্রিপশনও নয়।
app-home-title = আপনার পরামর্শ
app-book = পরামর্শ বুক করুন
app-book-for = বুক করুন
app-edit = বদলান
app-your-tokens = আপনার টোকেন
app-family = আপনার পরিবার
app-add-member = পরিবারের সদস্য যোগ করুন
app-edit-member = বিবরণ বদলান
app-your-profile = আপনার সম্পর্কে
app-your-profile-help = আপনার বিবরণ একবার দিন। তারপর নিজের ও পরিবারের জন্য বুক করতে পারবেন।
app-relation = আপনার সঙ্গে সম্পর্ক
app-relation-self = আপনি
app-relation-spouse = স্বামী বা স্ত্রী
app-relation-mother = মা
app-relation-father = বাবা
app-relation-son = ছেলে
app-relation-daughter = মেয়ে
app-relation-grandparent = দাদু-দিদা বা ঠাকুরদা-ঠাকুমা
app-relation-other = পরিবারের সদস্য
app-language = বার্তা ও প্রেসক্রিপশনের ভাষা
app-abha = ABHA নম্বর (ঐচ্ছিক)
app-abha-address = ABHA ঠিকানা (ঐচ্ছিক)
app-abha-address-hint = আপনার ABDM স্বাস্থ্য ঠিকানা, যেমন asha.das@abdm
app-who = পরামর্শ কার জন্য?
app-priority = অগ্রাধিকার দরকার?
app-priority-none = না
app-priority-pregnant = গর্ভবতী
app-priority-disability = প্রতিবন্ধী ব্যক্তি
app-choose-opd = OPD ও সময় বেছে নিন
app-no-opds = এখন কোনো OPD বুক করা যাচ্ছে না। পরে আবার চেষ্টা করুন।
app-booked-at = বুক করা হয়েছে { $time }
app-ahead = { $count ->
    [0] এর পরেই আপনার পালা।
    [one] আপনার আগে ১ জন।
   *[other] আপনার আগে { $count } জন।
}
app-now-serving = এখন দেখা হচ্ছে: { $tokens }
app-doctors-online = { $count ->
    [0] এখনও কোনো ডাক্তার অনলাইনে নেই।
    [one] ১ জন ডাক্তার অনলাইনে।
   *[other] { $count } জন ডাক্তার অনলাইনে।
}
app-turn-near = আপনার পালা এসে গেছে প্রায়। এই পাতা খোলা রাখুন এবং যোগ দিতে তৈরি থাকুন।
app-join = পরামর্শে যোগ দিন
app-join-by = { $time }-এর আগে যোগ দিন, নইলে আপনার পালা চলে যাবে।
app-completed = আপনার পরামর্শ শেষ হয়েছে।
app-see-prescriptions = প্রেসক্রিপশন দেখুন
app-no-show = কল মিস হয়েছে। এখনও ডাক্তার দেখাতে চাইলে আবার বুক করুন।
app-cancelled = এই টোকেন বাতিল।
app-cancel = এই টোকেন বাতিল করুন
app-cancel-confirm = এই টোকেন বাতিল করবেন? লাইনে আপনার জায়গা চলে যাবে।
app-offline-help = যে প্রেসক্রিপশন একবার খুলেছেন, তা এই ডিভাইসে ইন্টারনেট ছাড়াই আবার খোলে, যতক্ষণ না আপনি সাইন আউট করেন।
app-no-prescriptions = এখনও কোনো প্রেসক্রিপশন নেই।
app-messages = বার্তা
app-optional-messages = বুকিং নিশ্চিতকরণ, পালার মনে করানো ও প্রেসক্রিপশন SMS বা ইমেলে
app-essential-messages = লগইন কোড এবং যোগ দেওয়ার ডাক সবসময় পাঠানো হয়।
app-devices = সাইন ইন করা ডিভাইস
app-device-unnamed = একটি ডিভাইস
app-this-device = এই ডিভাইস
app-device-since = সাইন ইন { $time }
app-device-seen = শেষ ব্যবহার { $time }
app-sign-out-others = অন্য সব ডিভাইস থেকে সাইন আউট করুন
app-home-patient = রোগী
app-home-patient-help = পরামর্শ বুক করুন, আপনার টোকেন দেখুন, প্রেসক্রিপশন রাখুন।
app-walk-ins = আপনার নম্বরে স্বাস্থ্যকেন্দ্রে নিবন্ধন
app-walk-in-offer = একজন স্বাস্থ্যকর্মী এই নম্বরে “{ $initial }…”-এর একটি সাক্ষাৎ { $place }-এ নথিভুক্ত করেছেন।
app-walk-in-me = এটা আমি
app-walk-in-add = আমার পরিবারে যোগ করুন
app-walk-in-decline = আমার পরিবারের নয়
app-code-console = এটি ডেমো সার্ভার: কোড পাঠানো হয় না, তার কনসোলে ছাপা হয়।

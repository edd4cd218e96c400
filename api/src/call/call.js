// Sanjeevani consultation call: the doctor's and the patient's page (data-side on <body>).
// Media goes between the browsers over WebRTC; this script signs in, finds the room, relays
// offer/answer/ICE through the server's WebSocket, and runs chat and shared reports.
// Text from the server or the other side is only ever set as textContent (never as HTML).
'use strict';

const SIDE = document.body.dataset.side; // "doctor" or "patient"
const SESSION_KEY = 'sanjeevani.session';
const $ = (id) => document.getElementById(id);

const TEXT = {
  en: {
    title: 'Sanjeevani consultation', sign_out: 'Sign out', doctor_sign_in: 'Doctor sign-in',
    username: 'Username', password: 'Password', sign_in: 'Sign in',
    patient_sign_in: 'Sign in with your mobile number', phone: 'Mobile number', send_code: 'Send code',
    code: 'The 6-digit code', verify: 'Verify', lobby: 'Your consultations', your_profile: 'Your details',
    name: 'Name', sex: 'Sex', female: 'Female', male: 'Male', other: 'Other', birth_year: 'Year of birth',
    save: 'Save', token: 'Token', connecting: 'Connecting…', mute: 'Mute', unmute: 'Unmute',
    camera_off: 'Camera off', camera_on: 'Camera on', end_call: 'End call',
    complete: 'Complete consultation', chat: 'Chat', send: 'Send', files: 'Shared reports',
    share_report: 'Share a report (PDF or photo)', upload: 'Upload', open: 'Open',
    join: 'Join the call', book: 'Book', call_next: 'Go online and call next', waiting_for: 'Waiting for',
    connected: 'Connected', reconnecting: 'Connection lost, reconnecting…', peer_left: 'The other side left',
    ended: 'The consultation has ended', no_tokens: 'No tokens yet. Book one below.',
    doctor: 'Doctor', patient: 'Patient', status_waiting: 'waiting', status_called: 'called: join now',
    status_in_consultation: 'in consultation', status_completed: 'completed', status_no_show: 'missed',
    status_cancelled: 'cancelled', no_sessions: 'No session of yours is open now.',
  },
  hi: {
    title: 'संजीवनी परामर्श', sign_out: 'साइन आउट', doctor_sign_in: 'डॉक्टर साइन-इन',
    username: 'यूज़रनेम', password: 'पासवर्ड', sign_in: 'साइन इन',
    patient_sign_in: 'अपने मोबाइल नंबर से साइन इन करें', phone: 'मोबाइल नंबर', send_code: 'कोड भेजें',
    code: '6 अंकों का कोड', verify: 'पुष्टि करें', lobby: 'आपके परामर्श', your_profile: 'आपका विवरण',
    name: 'नाम', sex: 'लिंग', female: 'महिला', male: 'पुरुष', other: 'अन्य', birth_year: 'जन्म वर्ष',
    save: 'सहेजें', token: 'टोकन', connecting: 'जुड़ रहा है…', mute: 'म्यूट', unmute: 'अनम्यूट',
    camera_off: 'कैमरा बंद', camera_on: 'कैमरा चालू', end_call: 'कॉल समाप्त करें',
    complete: 'परामर्श पूरा करें', chat: 'चैट', send: 'भेजें', files: 'साझा रिपोर्ट',
    share_report: 'रिपोर्ट साझा करें (PDF या फ़ोटो)', upload: 'अपलोड', open: 'खोलें',
    join: 'कॉल में जुड़ें', book: 'बुक करें', call_next: 'ऑनलाइन होकर अगला मरीज़ बुलाएँ', waiting_for: 'प्रतीक्षा',
    connected: 'जुड़ गया', reconnecting: 'कनेक्शन टूटा, फिर से जुड़ रहा है…', peer_left: 'दूसरा पक्ष चला गया',
    ended: 'परामर्श समाप्त हो गया', no_tokens: 'अभी कोई टोकन नहीं। नीचे बुक करें।',
    doctor: 'डॉक्टर', patient: 'मरीज़', status_waiting: 'प्रतीक्षा में', status_called: 'बुलाया गया: अभी जुड़ें',
    status_in_consultation: 'परामर्श में', status_completed: 'पूरा', status_no_show: 'छूट गया',
    status_cancelled: 'रद्द', no_sessions: 'अभी आपका कोई सत्र खुला नहीं है।',
  },
  bn: {
    title: 'সঞ্জীবনী পরামর্শ', sign_out: 'সাইন আউট', doctor_sign_in: 'ডাক্তারের সাইন-ইন',
    username: 'ইউজারনেম', password: 'পাসওয়ার্ড', sign_in: 'সাইন ইন',
    patient_sign_in: 'আপনার মোবাইল নম্বর দিয়ে সাইন ইন করুন', phone: 'মোবাইল নম্বর', send_code: 'কোড পাঠান',
    code: '৬ অঙ্কের কোড', verify: 'যাচাই করুন', lobby: 'আপনার পরামর্শ', your_profile: 'আপনার তথ্য',
    name: 'নাম', sex: 'লিঙ্গ', female: 'মহিলা', male: 'পুরুষ', other: 'অন্যান্য', birth_year: 'জন্মের বছর',
    save: 'সংরক্ষণ', token: 'টোকেন', connecting: 'সংযোগ হচ্ছে…', mute: 'মিউট', unmute: 'আনমিউট',
    camera_off: 'ক্যামেরা বন্ধ', camera_on: 'ক্যামেরা চালু', end_call: 'কল শেষ করুন',
    complete: 'পরামর্শ সম্পূর্ণ করুন', chat: 'চ্যাট', send: 'পাঠান', files: 'শেয়ার করা রিপোর্ট',
    share_report: 'রিপোর্ট শেয়ার করুন (PDF বা ছবি)', upload: 'আপলোড', open: 'খুলুন',
    join: 'কলে যোগ দিন', book: 'বুক করুন', call_next: 'অনলাইন হয়ে পরের রোগী ডাকুন', waiting_for: 'অপেক্ষা',
    connected: 'সংযুক্ত', reconnecting: 'সংযোগ বিচ্ছিন্ন, আবার সংযোগ হচ্ছে…', peer_left: 'অন্য পক্ষ চলে গেছেন',
    ended: 'পরামর্শ শেষ হয়েছে', no_tokens: 'এখনও কোনো টোকেন নেই। নিচে বুক করুন।',
    doctor: 'ডাক্তার', patient: 'রোগী', status_waiting: 'অপেক্ষায়', status_called: 'ডাকা হয়েছে: এখনই যোগ দিন',
    status_in_consultation: 'পরামর্শ চলছে', status_completed: 'সম্পূর্ণ', status_no_show: 'মিস হয়েছে',
    status_cancelled: 'বাতিল', no_sessions: 'এখন আপনার কোনো সেশন খোলা নেই।',
  },
};

let language = localStorage.getItem('sanjeevani.language') || 'en';
const t = (key) => (TEXT[language] && TEXT[language][key]) || TEXT.en[key] || key;

function applyLanguage() {
  document.documentElement.lang = language;
  $('language').value = language;
  for (const element of document.querySelectorAll('[data-t]')) {
    element.textContent = t(element.dataset.t);
  }
}

// ---- the API ---------------------------------------------------------------------------------

const session = () => sessionStorage.getItem(SESSION_KEY);

async function api(method, path, body, extraHeaders) {
  const headers = Object.assign({}, extraHeaders || {});
  if (session()) headers.authorization = 'Bearer ' + session();
  let payload;
  if (body instanceof Blob) {
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 401 && path !== '/api/v1/auth/login') {
    sessionStorage.removeItem(SESSION_KEY);
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error((data && data.message) || response.statusText);
    error.code = data && data.code;
    throw error;
  }
  return data;
}

function showError(error) {
  $('error').textContent = error ? (error.message || String(error)) : '';
}

function show(id) {
  for (const section of ['login-staff', 'login-patient', 'lobby', 'call']) {
    $(section).hidden = section !== id;
  }
  $('sign-out').hidden = !session();
}

// ---- sign-in ---------------------------------------------------------------------------------

$('staff-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const issued = await api('POST', '/api/v1/auth/login', {
      username: $('username').value.trim(), password: $('password').value,
    });
    sessionStorage.setItem(SESSION_KEY, issued.token);
    showError(null);
    start();
  } catch (error) { showError(error); }
});

let otpPhone = '';
$('otp-request-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    otpPhone = $('phone').value.replace(/[\s-]/g, '');
    if (/^[6-9]\d{9}$/.test(otpPhone)) otpPhone = '+91' + otpPhone;
    await api('POST', '/api/v1/auth/otp/request', { phone: otpPhone });
    $('otp-verify-form').hidden = false;
    $('code').focus();
    showError(null);
  } catch (error) { showError(error); }
});

$('otp-verify-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    const issued = await api('POST', '/api/v1/auth/otp/verify', { phone: otpPhone, code: $('code').value.trim() });
    sessionStorage.setItem(SESSION_KEY, issued.token);
    showError(null);
    start();
  } catch (error) { showError(error); }
});

$('sign-out').addEventListener('click', async () => {
  try { await api('POST', '/api/v1/auth/logout'); } catch (_) { /* signed out anyway */ }
  sessionStorage.removeItem(SESSION_KEY);
  location.href = location.pathname;
});

// ---- the lobby -------------------------------------------------------------------------------

let lobbyTimer = null;

function button(label, onClick, kind) {
  const element = document.createElement('button');
  element.textContent = label;
  if (kind) element.className = kind;
  element.addEventListener('click', onClick);
  return element;
}

function line(...parts) {
  const item = document.createElement('li');
  for (const part of parts) item.append(part);
  return item;
}

async function doctorLobby() {
  const me = await api('GET', '/api/v1/auth/me');
  const listings = await api('GET', '/api/v1/opds');
  const list = document.createElement('ul');
  list.className = 'plain';
  for (const listing of listings.filter((l) => l.opd.doctor_ids.includes(me.id))) {
    for (const s of listing.sessions) {
      list.append(line(`${listing.opd.code} · ${listing.opd.name} · ${new Date(s.starts_at).toLocaleString()} · ${t('waiting_for')}: ${s.waiting} `,
        button(t('call_next'), async () => {
          try {
            await api('POST', '/api/v1/doctor/presence', { opd_id: listing.opd.id, online: true });
            const token = await api('POST', `/api/v1/opd-sessions/${encodeURIComponent(s.id)}/call-next`);
            enterRoom(token.id);
          } catch (error) { showError(error); }
        })));
    }
  }
  if (!list.children.length) list.append(line(t('no_sessions')));
  $('lobby-list').replaceChildren(list);
}

async function patientLobby() {
  const family = await api('GET', '/api/v1/patients');
  $('profile-form-box').hidden = family.length > 0;
  const tokens = await api('GET', '/api/v1/tokens');
  const list = document.createElement('ul');
  list.className = 'plain';
  for (const token of tokens) {
    const item = line(`${token.display} · ${t('status_' + token.status)} `);
    if (token.status === 'called' || token.status === 'in_consultation') {
      item.append(button(t('join'), () => enterRoom(token.id)));
    }
    list.append(item);
  }
  const active = tokens.some((tk) => ['waiting', 'called', 'in_consultation'].includes(tk.status));
  if (!tokens.length) list.append(line(t('no_tokens')));
  if (family.length && !active) {
    // Booking here keeps the demo in two tabs; the apps have the full booking screens.
    const listings = await api('GET', '/api/v1/opds');
    for (const listing of listings) {
      for (const s of listing.sessions.slice(0, 1)) {
        list.append(line(`${listing.opd.code} · ${listing.opd.name} · ${new Date(s.starts_at).toLocaleString()} `,
          button(t('book'), async () => {
            try {
              await api('POST', '/api/v1/tokens', { session_id: s.id, patient_id: family[0].id },
                { 'idempotency-key': crypto.randomUUID() });
              patientLobby();
            } catch (error) { showError(error); }
          }, 'secondary')));
      }
    }
  }
  $('lobby-list').replaceChildren(list);
}

$('profile-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await api('POST', '/api/v1/patients', {
      name: $('profile-name').value.trim(), sex: $('profile-sex').value,
      birth_year: Number($('profile-year').value), preferred_language: language,
    });
    patientLobby();
  } catch (error) { showError(error); }
});

async function lobby() {
  show('lobby');
  clearInterval(lobbyTimer);
  const refresh = async () => {
    try { await (SIDE === 'doctor' ? doctorLobby() : patientLobby()); } catch (error) { showError(error); }
  };
  await refresh();
  // The patient's list follows the queue; the doctor's is refreshed by hand (reload).
  if (SIDE === 'patient') lobbyTimer = setInterval(refresh, 3000);
}

// ---- the call --------------------------------------------------------------------------------

const call = {
  room: null, ice: null, ws: null, pc: null, local: null, ended: false,
  retries: 0, pendingCandidates: [], chain: Promise.resolve(),
};
// For tests and troubleshooting: the page's peer connection and room.
window.sanjeevaniCall = call;

function setState(key) {
  document.body.dataset.callState = key;
  $('status').textContent = t(key);
}

async function enterRoom(tokenId) {
  clearInterval(lobbyTimer);
  show('call');
  setState('connecting');
  try {
    call.room = await api('GET', `/api/v1/calls/${encodeURIComponent(tokenId)}`);
    call.ice = await api('GET', `/api/v1/calls/${encodeURIComponent(tokenId)}/ice-servers`);
    $('call-display').textContent = call.room.display;
    $('call-with').textContent = SIDE === 'doctor' ? call.room.patient_name : call.room.doctor_name;
    $('complete').hidden = SIDE !== 'doctor';
    $('upload-form').hidden = SIDE !== 'patient';
    history.replaceState(null, '', `${location.pathname}?token=${encodeURIComponent(tokenId)}`);
    call.local = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    $('local-video').srcObject = call.local;
    await loadRecord();
    connect();
  } catch (error) { showError(error); }
}

async function loadRecord() {
  const record = await api('GET', `/api/v1/calls/${encodeURIComponent(call.room.token_id)}/record`);
  $('chat-log').replaceChildren();
  for (const message of record.messages) addChat(message);
  $('file-list').replaceChildren();
  for (const file of record.files) addFile(file);
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const ws = new WebSocket(scheme + location.host + call.room.socket_path);
  call.ws = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', token: session() }));
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    // One at a time, in order: an answer must be applied before the candidates after it.
    call.chain = call.chain.then(() => onSignal(message)).catch((error) => showError(error));
  };
  ws.onclose = (event) => {
    if (call.ws !== ws || call.ended) return;
    // 4xxx: refused (not a participant, window passed, replaced): do not retry.
    if (event.code >= 4000 && event.code < 5000) return;
    setState('reconnecting');
    const wait = Math.min(1000 * 2 ** call.retries, 15000);
    call.retries += 1;
    setTimeout(connect, wait);
  };
}

function signal(message) {
  if (call.ws && call.ws.readyState === WebSocket.OPEN) call.ws.send(JSON.stringify(message));
}

function newPeer() {
  if (call.pc) call.pc.close();
  const pc = new RTCPeerConnection({ iceServers: call.ice.ice_servers });
  call.pc = pc;
  call.pendingCandidates = [];
  for (const track of call.local.getTracks()) pc.addTrack(track, call.local);
  pc.ontrack = (event) => { $('remote-video').srcObject = event.streams[0]; };
  pc.onicecandidate = (event) => signal({ type: 'ice', candidate: event.candidate ? event.candidate.toJSON() : null });
  pc.onconnectionstatechange = () => {
    if (call.pc !== pc) return;
    if (pc.connectionState === 'connected') { call.retries = 0; setState('connected'); }
    if (pc.connectionState === 'failed' && SIDE === 'doctor') offer();
  };
  return pc;
}

async function offer() {
  const pc = newPeer();
  await pc.setLocalDescription(await pc.createOffer());
  signal({ type: 'offer', sdp: pc.localDescription.sdp });
}

async function peerArrived() {
  // The doctor always makes the offer, so the two sides never offer at once.
  if (SIDE === 'doctor') {
    if (call.room.status === 'called') {
      try {
        await api('POST', `/api/v1/tokens/${encodeURIComponent(call.room.token_id)}/start`);
        call.room.status = 'in_consultation';
      } catch (_) { /* already started */ }
    }
    await offer();
  }
}

async function onSignal(message) {
  switch (message.type) {
    case 'welcome':
      if (message.peer_present) await peerArrived();
      break;
    case 'peer_joined':
      await peerArrived();
      break;
    case 'peer_dropped':
      setState('reconnecting');
      break;
    case 'peer_left':
      setState('peer_left');
      if (call.pc) { call.pc.close(); call.pc = null; }
      break;
    case 'offer': {
      const pc = newPeer();
      await pc.setRemoteDescription({ type: 'offer', sdp: message.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      signal({ type: 'answer', sdp: pc.localDescription.sdp });
      await flushCandidates();
      break;
    }
    case 'answer':
      if (call.pc) {
        await call.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
        await flushCandidates();
      }
      break;
    case 'ice':
      if (!message.candidate || !call.pc) break;
      if (call.pc.remoteDescription) await call.pc.addIceCandidate(message.candidate);
      else call.pendingCandidates.push(message.candidate);
      break;
    case 'chat':
      addChat(message.message);
      break;
    case 'file_shared':
      addFile(message.file);
      break;
    case 'ended':
      endCall('ended');
      break;
    case 'error':
      if (message.code !== 'peer_absent') showError(message);
      break;
    default:
      break;
  }
}

async function flushCandidates() {
  const pending = call.pendingCandidates;
  call.pendingCandidates = [];
  for (const candidate of pending) await call.pc.addIceCandidate(candidate);
}

function endCall(state) {
  call.ended = true;
  if (call.pc) call.pc.close();
  if (call.local) for (const track of call.local.getTracks()) track.stop();
  if (call.ws) call.ws.close(1000);
  setState(state);
}

function addChat(message) {
  const p = document.createElement('p');
  p.className = message.side;
  const who = document.createElement('b');
  who.textContent = `${message.sender_name} (${t(message.side)}): `;
  p.append(who, message.text);
  $('chat-log').append(p);
  $('chat-log').scrollTop = $('chat-log').scrollHeight;
}

function addFile(file) {
  const id = 'file-' + file.id;
  if (document.getElementById(id)) return;
  const item = line(`${file.file_name} (${Math.ceil(file.size_bytes / 1024)} KB) `,
    button(t('open'), () => openFile(file), 'secondary'));
  item.id = id;
  $('file-list').append(item);
}

async function openFile(file) {
  try {
    const response = await fetch(`/api/v1/calls/${encodeURIComponent(call.room.token_id)}/files/${encodeURIComponent(file.id)}`,
      { headers: { authorization: 'Bearer ' + session() } });
    if (!response.ok) throw new Error(response.statusText);
    const url = URL.createObjectURL(await response.blob());
    const view = file.media_type === 'application/pdf' ? document.createElement('iframe') : document.createElement('img');
    view.src = url;
    view.title = file.file_name;
    if (view.tagName === 'IMG') view.alt = file.file_name;
    $('file-view').replaceChildren(view);
  } catch (error) { showError(error); }
}

$('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('chat-text').value.trim();
  if (!text) return;
  signal({ type: 'chat', text });
  $('chat-text').value = '';
});

$('upload-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const file = $('upload-file').files[0];
  if (!file) return;
  try {
    const shared = await api('POST', `/api/v1/calls/${encodeURIComponent(call.room.token_id)}/files`, file,
      { 'x-file-name': encodeURIComponent(file.name) });
    addFile(shared);
    $('upload-file').value = '';
    showError(null);
  } catch (error) { showError(error); }
});

$('mute').addEventListener('click', () => {
  const track = call.local && call.local.getAudioTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled;
  $('mute').dataset.t = track.enabled ? 'mute' : 'unmute';
  $('mute').textContent = t($('mute').dataset.t);
});

$('camera').addEventListener('click', () => {
  const track = call.local && call.local.getVideoTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled;
  $('camera').dataset.t = track.enabled ? 'camera_off' : 'camera_on';
  $('camera').textContent = t($('camera').dataset.t);
});

$('leave').addEventListener('click', () => {
  signal({ type: 'leave' });
  endCall('ended');
});

$('complete').addEventListener('click', async () => {
  try {
    await api('POST', `/api/v1/tokens/${encodeURIComponent(call.room.token_id)}/complete`);
  } catch (error) { showError(error); }
});

$('language').addEventListener('change', () => {
  language = $('language').value;
  localStorage.setItem('sanjeevani.language', language);
  applyLanguage();
});

// ---- start -----------------------------------------------------------------------------------

let heartbeatTimer = null;

function start() {
  applyLanguage();
  if (!session()) {
    show(SIDE === 'doctor' ? 'login-staff' : 'login-patient');
    return;
  }
  if (SIDE === 'doctor' && !heartbeatTimer) {
    // A doctor on this page is working: without a heartbeat the queue shows them offline
    // after 90 s (a 409 before they went online is harmless).
    heartbeatTimer = setInterval(() => api('POST', '/api/v1/doctor/heartbeat').catch(() => {}), 30000);
  }
  const token = new URLSearchParams(location.search).get('token');
  if (token) enterRoom(token);
  else lobby();
}

start();

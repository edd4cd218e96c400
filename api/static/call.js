// The consultation call, on any page with the call pane (templates/call_pane.html): the
// doctor's and the patient's call pages, and the spoke workspace, where the CHO is the
// patient's side. Media goes between the browsers over WebRTC; this script finds the room,
// relays offer/answer/ICE through the server's WebSocket, and runs chat and shared reports.
// Text from the server or the other side is only ever set as textContent (never as HTML).
(function () {
  'use strict';

  var $ = function (id) { return document.getElementById(id); };
  var pane = $('call');
  if (!pane) return;

  var SIDE = pane.dataset.side; // "doctor" or "patient"
  var TEXT = JSON.parse(pane.dataset.texts || '{}');
  var t = function (key) { return TEXT[key] || key; };
  // The call pages have a lobby (sign-in, sessions or tokens); the spoke workspace has its own.
  var CALL_PAGE = !!$('lobby');
  var SESSION_KEY = 'sanjeevani.session';
  // A signed-in staff member's session comes with the page; a patient signs in here.
  var session = function () { return pane.dataset.session || sessionStorage.getItem(SESSION_KEY); };

  // ---- the API ---------------------------------------------------------------------------

  function api(method, path, body, extraHeaders) {
    var headers = Object.assign({}, extraHeaders || {});
    if (session()) headers.authorization = 'Bearer ' + session();
    var payload;
    if (body instanceof Blob) {
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    return fetch(path, { method: method, headers: headers, body: payload }).then(function (response) {
      if (response.status === 401 && !pane.dataset.session) sessionStorage.removeItem(SESSION_KEY);
      return response.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!response.ok) {
          var error = new Error((data && data.message) || response.statusText);
          error.code = data && data.code;
          throw error;
        }
        return data;
      });
    });
  }

  function showError(error) {
    $('error').textContent = error ? (error.message || String(error)) : '';
  }

  function show(id) {
    ['login-patient', 'lobby', 'call'].forEach(function (section) {
      if ($(section)) $(section).hidden = section !== id;
    });
    if ($('patient-sign-out')) $('patient-sign-out').hidden = !session();
  }

  // ---- a patient signs in on the page -------------------------------------------------------

  var otpPhone = '';
  if ($('otp-request-form')) {
    $('otp-request-form').addEventListener('submit', function (event) {
      event.preventDefault();
      otpPhone = $('phone').value.replace(/[\s-]/g, '');
      if (/^[6-9]\d{9}$/.test(otpPhone)) otpPhone = '+91' + otpPhone;
      api('POST', '/api/v1/auth/otp/request', { phone: otpPhone }).then(function () {
        $('otp-verify-form').hidden = false;
        $('code').focus();
        showError(null);
      }, showError);
    });
    $('otp-verify-form').addEventListener('submit', function (event) {
      event.preventDefault();
      api('POST', '/api/v1/auth/otp/verify', { phone: otpPhone, code: $('code').value.trim() }).then(function (issued) {
        sessionStorage.setItem(SESSION_KEY, issued.token);
        showError(null);
        start();
      }, showError);
    });
  }
  if ($('patient-sign-out')) {
    $('patient-sign-out').addEventListener('click', function () {
      api('POST', '/api/v1/auth/logout').catch(function () { /* signed out anyway */ }).then(function () {
        sessionStorage.removeItem(SESSION_KEY);
        location.href = location.pathname;
      });
    });
  }

  // ---- the lobby (call pages) ----------------------------------------------------------------

  var lobbyTimer = null;

  function button(label, onClick, kind) {
    var element = document.createElement('button');
    element.type = 'button';
    element.textContent = label;
    if (kind) element.className = kind;
    element.addEventListener('click', onClick);
    return element;
  }

  function line() {
    var item = document.createElement('li');
    for (var i = 0; i < arguments.length; i++) item.append(arguments[i]);
    return item;
  }

  function when(iso) {
    return new Date(iso).toLocaleString(document.documentElement.lang + '-IN', { timeZone: 'Asia/Kolkata' });
  }

  function doctorLobby() {
    return Promise.all([api('GET', '/api/v1/auth/me'), api('GET', '/api/v1/opds')]).then(function (got) {
      var me = got[0];
      var list = document.createElement('ul');
      list.className = 'plain';
      got[1].filter(function (l) { return l.opd.doctor_ids.indexOf(me.id) >= 0; }).forEach(function (listing) {
        listing.sessions.forEach(function (s) {
          list.append(line(listing.opd.code + ' · ' + listing.opd.name + ' · ' + when(s.starts_at) + ' · ' + t('waiting_for') + ': ' + s.waiting + ' ',
            button(t('call_next'), function () {
              api('POST', '/api/v1/doctor/presence', { opd_id: listing.opd.id, online: true }).then(function () {
                return api('POST', '/api/v1/opd-sessions/' + encodeURIComponent(s.id) + '/call-next');
              }).then(function (token) { enterRoom(token.id); }, showError);
            })));
        });
      });
      if (!list.children.length) list.append(line(t('no_sessions')));
      $('lobby-list').replaceChildren(list);
    });
  }

  function patientLobby() {
    return Promise.all([api('GET', '/api/v1/patients'), api('GET', '/api/v1/tokens')]).then(function (got) {
      var family = got[0], tokens = got[1];
      $('profile-form-box').hidden = family.length > 0;
      var list = document.createElement('ul');
      list.className = 'plain';
      tokens.forEach(function (token) {
        var item = line(token.display + ' · ' + t('status_' + token.status) + ' ');
        if (token.status === 'called' || token.status === 'in_consultation') {
          item.append(button(t('join'), function () { enterRoom(token.id); }));
        }
        list.append(item);
      });
      if (!tokens.length) list.append(line(t('no_tokens')));
      $('lobby-list').replaceChildren(list);
      var active = tokens.some(function (tk) { return ['waiting', 'called', 'in_consultation'].indexOf(tk.status) >= 0; });
      if (!family.length || active) return;
      // Booking here keeps the demo in two tabs; the apps have the full booking screens.
      return api('GET', '/api/v1/opds').then(function (listings) {
        listings.forEach(function (listing) {
          listing.sessions.slice(0, 1).forEach(function (s) {
            list.append(line(listing.opd.code + ' · ' + listing.opd.name + ' · ' + when(s.starts_at) + ' ',
              button(t('book'), function () {
                api('POST', '/api/v1/tokens', { session_id: s.id, patient_id: family[0].id },
                  { 'idempotency-key': crypto.randomUUID() }).then(patientLobby, showError);
              }, 'secondary')));
          });
        });
      });
    });
  }

  if ($('profile-form')) {
    $('profile-form').addEventListener('submit', function (event) {
      event.preventDefault();
      api('POST', '/api/v1/patients', {
        name: $('profile-name').value.trim(), sex: $('profile-sex').value,
        birth_year: Number($('profile-year').value), preferred_language: document.documentElement.lang,
      }).then(patientLobby, showError);
    });
  }

  function lobby() {
    show('lobby');
    clearInterval(lobbyTimer);
    var refresh = function () {
      return (SIDE === 'doctor' ? doctorLobby() : patientLobby()).catch(showError);
    };
    refresh();
    // The patient's list follows the queue; the doctor's is refreshed by hand (reload).
    if (SIDE === 'patient') lobbyTimer = setInterval(refresh, 3000);
  }

  // ---- the call ------------------------------------------------------------------------------

  var call = {
    room: null, ice: null, ws: null, pc: null, local: null, ended: false,
    retries: 0, pendingCandidates: [], chain: Promise.resolve(),
  };
  // For tests and troubleshooting: the page's peer connection and room.
  window.sanjeevaniCall = call;
  document.body.dataset.callState = 'new';

  function setState(key) {
    document.body.dataset.callState = key;
    $('status').textContent = t(key);
  }

  function enterRoom(tokenId) {
    clearInterval(lobbyTimer);
    if (call.ws && !call.ended) return; // one call at a time
    call.ended = false;
    call.retries = 0;
    show('call');
    setState('connecting');
    var base = '/api/v1/calls/' + encodeURIComponent(tokenId);
    return api('GET', base).then(function (room) {
      call.room = room;
      return api('GET', base + '/ice-servers');
    }).then(function (ice) {
      call.ice = ice;
      $('call-display').textContent = call.room.display;
      $('call-with').textContent = SIDE === 'doctor' ? call.room.patient_name : call.room.doctor_name;
      $('complete').hidden = SIDE !== 'doctor';
      $('upload-form').hidden = SIDE !== 'patient';
      if (CALL_PAGE) history.replaceState(null, '', location.pathname + '?token=' + encodeURIComponent(tokenId));
      pane.scrollIntoView({ block: 'start' });
      return navigator.mediaDevices.getUserMedia({ video: true, audio: true }).catch(function () {
        throw new Error(t('no_camera'));
      });
    }).then(function (local) {
      call.local = local;
      $('local-video').srcObject = local;
      return loadRecord();
    }).then(connect).catch(showError);
  }

  function loadRecord() {
    return api('GET', '/api/v1/calls/' + encodeURIComponent(call.room.token_id) + '/record').then(function (record) {
      $('chat-log').replaceChildren();
      record.messages.forEach(addChat);
      $('file-list').replaceChildren();
      record.files.forEach(addFile);
    });
  }

  function connect() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    var ws = new WebSocket(scheme + location.host + call.room.socket_path);
    call.ws = ws;
    ws.onopen = function () { ws.send(JSON.stringify({ type: 'auth', token: session() })); };
    ws.onmessage = function (event) {
      var message = JSON.parse(event.data);
      // One at a time, in order: an answer must be applied before the candidates after it.
      call.chain = call.chain.then(function () { return onSignal(message); }).catch(showError);
    };
    ws.onclose = function (event) {
      if (call.ws !== ws || call.ended) return;
      // 4xxx: refused (not a participant, window passed, replaced): do not retry.
      if (event.code >= 4000 && event.code < 5000) return;
      setState('reconnecting');
      var wait = Math.min(1000 * Math.pow(2, call.retries), 15000);
      call.retries += 1;
      setTimeout(connect, wait);
    };
  }

  function signal(message) {
    if (call.ws && call.ws.readyState === WebSocket.OPEN) call.ws.send(JSON.stringify(message));
  }

  function newPeer() {
    if (call.pc) call.pc.close();
    var pc = new RTCPeerConnection({ iceServers: call.ice.ice_servers });
    call.pc = pc;
    call.pendingCandidates = [];
    call.local.getTracks().forEach(function (track) { pc.addTrack(track, call.local); });
    pc.ontrack = function (event) { $('remote-video').srcObject = event.streams[0]; };
    pc.onicecandidate = function (event) {
      signal({ type: 'ice', candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    pc.onconnectionstatechange = function () {
      if (call.pc !== pc) return;
      if (pc.connectionState === 'connected') { call.retries = 0; setState('connected'); }
      if (pc.connectionState === 'failed' && SIDE === 'doctor') offer();
    };
    return pc;
  }

  function offer() {
    var pc = newPeer();
    return pc.createOffer().then(function (description) {
      return pc.setLocalDescription(description);
    }).then(function () {
      signal({ type: 'offer', sdp: pc.localDescription.sdp });
    });
  }

  function peerArrived() {
    // The doctor always makes the offer, so the two sides never offer at once.
    if (SIDE !== 'doctor') return Promise.resolve();
    var started = Promise.resolve();
    if (call.room.status === 'called') {
      started = api('POST', '/api/v1/tokens/' + encodeURIComponent(call.room.token_id) + '/start').then(function () {
        call.room.status = 'in_consultation';
      }, function () { /* already started */ });
    }
    return started.then(offer);
  }

  function onSignal(message) {
    switch (message.type) {
      case 'welcome':
        return message.peer_present ? peerArrived() : undefined;
      case 'peer_joined':
        return peerArrived();
      case 'peer_dropped':
        return setState('reconnecting');
      case 'peer_left':
        setState('peer_left');
        if (call.pc) { call.pc.close(); call.pc = null; }
        return;
      case 'offer': {
        var pc = newPeer();
        return pc.setRemoteDescription({ type: 'offer', sdp: message.sdp }).then(function () {
          return pc.createAnswer();
        }).then(function (answer) {
          return pc.setLocalDescription(answer);
        }).then(function () {
          signal({ type: 'answer', sdp: pc.localDescription.sdp });
          return flushCandidates();
        });
      }
      case 'answer':
        if (!call.pc) return;
        return call.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp }).then(flushCandidates);
      case 'ice':
        if (!message.candidate || !call.pc) return;
        if (call.pc.remoteDescription) return call.pc.addIceCandidate(message.candidate);
        call.pendingCandidates.push(message.candidate);
        return;
      case 'chat':
        return addChat(message.message);
      case 'file_shared':
        return addFile(message.file);
      case 'ended':
        return endCall('ended');
      case 'error':
        if (message.code !== 'peer_absent') showError(message);
        return;
      default:
        return;
    }
  }

  function flushCandidates() {
    var pending = call.pendingCandidates;
    call.pendingCandidates = [];
    return pending.reduce(function (chain, candidate) {
      return chain.then(function () { return call.pc.addIceCandidate(candidate); });
    }, Promise.resolve());
  }

  function endCall(state) {
    call.ended = true;
    if (call.pc) call.pc.close();
    if (call.local) call.local.getTracks().forEach(function (track) { track.stop(); });
    if (call.ws) call.ws.close(1000);
    call.ws = null;
    setState(state);
  }

  function addChat(message) {
    var p = document.createElement('p');
    p.className = message.side;
    var who = document.createElement('b');
    who.textContent = message.sender_name + ' (' + t(message.side) + '): ';
    p.append(who, message.text);
    $('chat-log').append(p);
    $('chat-log').scrollTop = $('chat-log').scrollHeight;
  }

  function addFile(file) {
    var id = 'file-' + file.id;
    if (document.getElementById(id)) return;
    var item = line(file.file_name + ' (' + Math.ceil(file.size_bytes / 1024) + ' KB) ',
      button(t('open'), function () { openFile(file); }, 'secondary'));
    item.id = id;
    $('file-list').append(item);
  }

  function openFile(file) {
    var path = '/api/v1/calls/' + encodeURIComponent(call.room.token_id) + '/files/' + encodeURIComponent(file.id);
    fetch(path, { headers: { authorization: 'Bearer ' + session() } }).then(function (response) {
      if (!response.ok) throw new Error(response.statusText);
      return response.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var view = document.createElement(file.media_type === 'application/pdf' ? 'iframe' : 'img');
      view.src = url;
      view.title = file.file_name;
      if (view.tagName === 'IMG') view.alt = file.file_name;
      $('file-view').replaceChildren(view);
    }).catch(showError);
  }

  $('chat-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var text = $('chat-text').value.trim();
    if (!text) return;
    signal({ type: 'chat', text: text });
    $('chat-text').value = '';
  });

  $('upload-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var file = $('upload-file').files[0];
    if (!file) return;
    api('POST', '/api/v1/calls/' + encodeURIComponent(call.room.token_id) + '/files', file,
      { 'x-file-name': encodeURIComponent(file.name) }).then(function (shared) {
      addFile(shared);
      $('upload-file').value = '';
      showError(null);
    }, showError);
  });

  function toggle(id, kind, on, off) {
    $(id).addEventListener('click', function () {
      var track = call.local && call.local[kind]()[0];
      if (!track) return;
      track.enabled = !track.enabled;
      $(id).textContent = t(track.enabled ? on : off);
    });
  }
  toggle('mute', 'getAudioTracks', 'mute', 'unmute');
  toggle('camera', 'getVideoTracks', 'camera_off', 'camera_on');

  $('leave').addEventListener('click', function () {
    signal({ type: 'leave' });
    endCall('ended');
  });

  $('complete').addEventListener('click', function () {
    api('POST', '/api/v1/tokens/' + encodeURIComponent(call.room.token_id) + '/complete').catch(showError);
  });

  // Any "join the call" button of the page (the spoke workspace's board renders them, and may
  // replace them as the board changes): `data-join-call="<token id>"`.
  document.addEventListener('click', function (event) {
    var join = event.target.closest && event.target.closest('[data-join-call]');
    if (join) {
      event.preventDefault();
      enterRoom(join.dataset.joinCall);
    }
  });

  // ---- start ---------------------------------------------------------------------------------

  var heartbeatTimer = null;

  function start() {
    if (!CALL_PAGE) return; // the spoke workspace starts a call from its board
    if (!session()) {
      show('login-patient');
      return;
    }
    if (SIDE === 'doctor' && !heartbeatTimer) {
      // A doctor on this page is working: without a heartbeat the queue shows them offline
      // after 90 s (a 409 before they went online is harmless).
      heartbeatTimer = setInterval(function () {
        api('POST', '/api/v1/doctor/heartbeat').catch(function () {});
      }, 30000);
    }
    var token = new URLSearchParams(location.search).get('token');
    if (token) enterRoom(token);
    else lobby();
  }

  start();
})();

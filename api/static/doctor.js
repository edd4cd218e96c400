// The doctor's workspace: heartbeats while the page is open, each queue and the consultation's
// state kept live from the session's event stream, join deadlines counting down, the ICD-10
// and medicine pickers, the suggested quantity, favourites, and the typed forms: kept as a
// draft in localStorage until saved and sent with fetch, so a failed request (the server
// unreachable, a refused value) leaves everything typed in place and says what failed.
// Text from the server is only ever set as textContent, or parsed from our own HTML fragments.
(function () {
  "use strict";
  var workspace = document.getElementById("doctor");
  var consult = document.getElementById("consult");
  if (!workspace && !consult) return;
  var root = workspace || consult;

  // ---- the server's clock (countdowns) and heartbeats ---------------------------------------

  var skewMs = 0;
  function learnClock(el) {
    var now = el && el.dataset.now && Date.parse(el.dataset.now);
    if (now) skewMs = now - Date.now();
  }
  function serverNow() { return Date.now() + skewMs; }

  function tick() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.dataset.deadline) - serverNow()) / 1000);
      if (left <= 0) { el.textContent = root.dataset.passed; el.classList.add("passed"); return; }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = "⏱ " + m + ":" + (s < 10 ? "0" : "") + s;
    });
  }
  setInterval(tick, 1000);

  function heartbeat() {
    fetch("/doctor/heartbeat", { method: "POST", credentials: "same-origin" }).catch(function () {});
  }
  // Without a heartbeat the queue shows the doctor offline after the presence timeout (90 s):
  // closing the tab is going offline.
  heartbeat();
  setInterval(heartbeat, 30000);

  // ---- live streams -------------------------------------------------------------------------

  function parseFragment(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    return doc.body.firstElementChild;
  }

  // One stream per session; `refresh` runs on every change (and once the stream opens).
  function follow(session, refresh, onLive) {
    var source = null, retryMs = 1000, timer = null;
    function connect() {
      clearTimeout(timer);
      if (source) source.close();
      source = new EventSource("/api/v1/opd-sessions/" + encodeURIComponent(session) + "/events");
      source.addEventListener("open", function () { retryMs = 1000; onLive(true); });
      source.addEventListener("board", function () { onLive(true); refresh(); });
      source.addEventListener("keepalive", function () { onLive(true); });
      source.addEventListener("error", function () {
        onLive(false);
        if (source.readyState === EventSource.CLOSED) {
          timer = setTimeout(connect, retryMs);
          retryMs = Math.min(retryMs * 2, 30000);
        }
      });
    }
    connect();
  }

  if (workspace) {
    document.querySelectorAll("section.queue[data-session]").forEach(function (section) {
      var session = section.dataset.session;
      var label = section.dataset.label;
      var current = section;
      // The fragment as last shown (without its timestamp): an unchanged queue is not redrawn,
      // so nothing moves under the doctor's pointer.
      var shown = null;
      function unstamped(html) { return html.replace(/data-now="[^"]*"/, ""); }
      learnClock(section);
      function live(isLive) {
        var el = current.querySelector(".connection");
        if (!el) return;
        el.className = "connection " + (isLive ? "live" : "down");
        el.textContent = isLive ? workspace.dataset.live : workspace.dataset.reconnecting;
        current.dataset.connected = isLive ? "true" : "false";
      }
      function refresh() {
        fetch("/doctor/queue/" + encodeURIComponent(session) + "?label=" + encodeURIComponent(label),
          { credentials: "same-origin" })
          .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
          .then(function (html) {
            if (shown === null) shown = unstamped(current.outerHTML);
            var fresh = parseFragment(html);
            if (!fresh) return;
            if (unstamped(fresh.outerHTML) === shown) { live(true); return; }
            shown = unstamped(fresh.outerHTML);
            current.replaceWith(fresh);
            current = fresh;
            learnClock(fresh);
            live(true);
            tick();
          })
          .catch(function () { live(false); });
      }
      follow(session, refresh, live);
    });
    tick();
    return;
  }

  // ---- the consultation screen --------------------------------------------------------------

  var token = consult.dataset.token;
  learnClock(document.getElementById("status-bar"));
  tick();
  var barShown = null;
  function unstampedBar(html) { return html.replace(/data-now="[^"]*"/, ""); }
  follow(consult.dataset.session, function () {
    fetch("/doctor/consult/" + encodeURIComponent(token) + "/status", { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var fresh = parseFragment(html);
        var bar = document.getElementById("status-bar");
        if (!fresh || !bar) return;
        if (barShown === null) barShown = unstampedBar(bar.outerHTML);
        // Redrawn only when the consultation's state changed.
        if (unstampedBar(fresh.outerHTML) === barShown) return;
        barShown = unstampedBar(fresh.outerHTML);
        bar.replaceWith(fresh);
        learnClock(fresh);
        tick();
      })
      .catch(function () {});
  }, function () {});

  var problem = document.getElementById("problem");
  // A form's problem is said beside its buttons, where the doctor is looking.
  function say(text, where) {
    var el = where || problem;
    el.textContent = text;
    el.hidden = !text;
    if (text) el.scrollIntoView({ block: "center" });
  }

  // ---- drafts -------------------------------------------------------------------------------

  function draftKey(form) { return "sanjeevani.draft." + token + "." + form.dataset.draft; }

  function snapshot(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" && el.name !== "vitals_id") return;
      (values[el.name] = values[el.name] || []).push(el.value);
    });
    return values;
  }

  function saveDraft(form) {
    try { localStorage.setItem(draftKey(form), JSON.stringify(snapshot(form))); } catch (e) { /* full */ }
  }

  function clearDraft(form) {
    try { localStorage.removeItem(draftKey(form)); } catch (e) { /* unavailable */ }
  }

  function restoreDraft(form) {
    var text = null;
    try { text = localStorage.getItem(draftKey(form)); } catch (e) { return false; }
    if (!text) return false;
    var values;
    try { values = JSON.parse(text); } catch (e) { return false; }
    if (form.id === "rx-form") {
      var rows = (values.medicine || []).length;
      while (itemRows().length < rows) addRow();
    }
    var seen = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !values[el.name]) return;
      var i = seen[el.name] = (seen[el.name] || 0);
      seen[el.name] += 1;
      if (values[el.name][i] !== undefined && el.type !== "hidden") el.value = values[el.name][i];
    });
    return true;
  }

  // ---- the prescription's lines -------------------------------------------------------------

  var items = document.getElementById("rx-items");
  function itemRows() { return items ? Array.prototype.slice.call(items.querySelectorAll(".rx-item")) : []; }

  function renumber() {
    var rows = itemRows();
    rows.forEach(function (row, i) {
      row.querySelector(".number").textContent = String(i + 1);
      row.querySelector(".remove-item").hidden = rows.length < 2;
    });
  }

  function addRow() {
    var first = itemRows()[0];
    var row = first.cloneNode(true);
    row.querySelectorAll("input").forEach(function (el) { el.value = ""; delete el.dataset.auto; });
    row.querySelector("select[name=timing]").value = "after_food";
    row.querySelector("input[name=route]").value = "oral";
    row.querySelector(".suggested").textContent = "";
    row.querySelector(".medicine-results").hidden = true;
    items.appendChild(row);
    wireRow(row);
    renumber();
    return row;
  }

  // Units a dose counts in (a liquid's millilitres are not counted units).
  function doseUnits(dose) {
    var text = dose.trim().toLowerCase().replace("½", "0.5").replace("¼", "0.25");
    var m = text.match(/^(\d+(?:\.\d+)?)\s*(tablets?|tabs?|capsules?|caps?|sachets?|puffs?|drops?|units?)?$/);
    return m ? parseFloat(m[1]) : null;
  }

  function perDay(frequency) {
    var f = frequency.trim().toLowerCase();
    var pattern = f.match(/^(\d)\s*-\s*(\d)\s*-\s*(\d)$/);
    if (pattern) return +pattern[1] + +pattern[2] + +pattern[3];
    var table = [
      [/once weekly|once a week|weekly/, 1 / 7],
      [/four times|qid|qds|every 6 hours/, 4],
      [/three times|tds|tid|every 8 hours/, 3],
      [/twice|bd|bid|every 12 hours/, 2],
      [/once|\bod\b|bedtime|at night|\bhs\b|daily/, 1]
    ];
    for (var i = 0; i < table.length; i += 1) if (table[i][0].test(f)) return table[i][1];
    return null;
  }

  function suggest(row) {
    var dose = doseUnits(row.querySelector("[name=dose]").value);
    var times = perDay(row.querySelector("[name=frequency]").value);
    var days = parseInt(row.querySelector("[name=duration_days]").value, 10);
    var out = row.querySelector(".suggested");
    var quantity = row.querySelector("[name=quantity]");
    if (dose === null || times === null || !(days > 0)) { out.textContent = ""; return; }
    var n = Math.ceil(dose * times * days);
    out.textContent = "(" + consult.dataset.suggested + ": " + n + ")";
    if (!quantity.value || quantity.dataset.auto === "1") {
      quantity.value = String(n);
      quantity.dataset.auto = "1";
    }
  }

  // ---- pickers: ICD-10 and medicines (lists shipped with the server) ------------------------

  var lists = {};
  function load(name) {
    if (!lists[name]) {
      lists[name] = fetch("/static/data/" + name + ".json").then(function (r) { return r.json(); });
    }
    return lists[name];
  }

  function words(text) { return text.toLowerCase().split(/\s+/).filter(Boolean); }

  function showChoices(list, input, choices, label, pick) {
    list.replaceChildren();
    choices.forEach(function (choice, i) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = list.id ? list.id + "-" + i : "";
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = label(choice);
      b.addEventListener("click", function () {
        pick(choice);
        list.hidden = true;
        input.setAttribute("aria-expanded", "false");
      });
      li.appendChild(b);
      list.appendChild(li);
    });
    if (!choices.length && input.value.trim()) {
      var none = document.createElement("li");
      none.className = "help";
      none.textContent = consult.dataset.noMatch;
      list.appendChild(none);
    }
    list.hidden = !input.value.trim();
    input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
  }

  var icdBox = document.getElementById("icd10-box");
  if (icdBox) {
    icdBox.hidden = false;
    var icdSearch = document.getElementById("icd10-search");
    var icdList = document.getElementById("icd10-results");
    icdSearch.addEventListener("input", function () {
      var q = words(icdSearch.value);
      load("icd10").then(function (data) {
        var found = data.codes.filter(function (entry) {
          var code = entry[0].toLowerCase(), text = entry[1].toLowerCase();
          return q.every(function (w) { return code.indexOf(w) === 0 || text.indexOf(w) !== -1; });
        }).slice(0, 12);
        showChoices(icdList, icdSearch, found, function (e) { return e[0] + " — " + e[1]; }, function (e) {
          document.getElementById("icd10_code").value = e[0];
          var diagnosis = document.getElementById("provisional_diagnosis");
          if (!diagnosis.value.trim()) diagnosis.value = e[1];
          icdSearch.value = "";
          saveDraft(document.getElementById("note-form"));
        });
      });
    });
  }

  function fillRow(row, item) {
    ["medicine", "form", "strength", "dose", "frequency", "route", "duration_days", "quantity", "instructions"]
      .forEach(function (name) {
        if (item[name] !== undefined) row.querySelector("[name=" + name + "]").value = item[name];
      });
    if (item.timing) row.querySelector("[name=timing]").value = item.timing;
    suggest(row);
    saveDraft(document.getElementById("rx-form"));
  }

  function wireRow(row) {
    var input = row.querySelector("input.medicine");
    var list = row.querySelector(".medicine-results");
    input.addEventListener("input", function () {
      var q = words(input.value);
      load("medicines").then(function (data) {
        var found = data.medicines.filter(function (m) {
          var text = (m[0] + " " + m[1] + " " + m[2]).toLowerCase();
          return q.every(function (w) { return text.indexOf(w) !== -1; });
        }).slice(0, 10);
        showChoices(list, input, found, function (m) { return m[0] + " " + m[2] + " (" + m[1] + ")"; },
          function (m) { fillRow(row, { medicine: m[0], form: m[1], strength: m[2], route: m[3] }); });
      });
    });
    ["dose", "frequency", "duration_days"].forEach(function (name) {
      row.querySelector("[name=" + name + "]").addEventListener("input", function () { suggest(row); });
    });
    row.querySelector("[name=quantity]").addEventListener("input", function (e) { delete e.target.dataset.auto; });
    row.querySelector(".remove-item").addEventListener("click", function () {
      row.remove();
      renumber();
      saveDraft(document.getElementById("rx-form"));
    });
  }

  if (items) {
    itemRows().forEach(wireRow);
    var add = document.getElementById("add-item");
    add.hidden = false;
    add.addEventListener("click", function () { addRow().querySelector("input.medicine").focus(); });
    var favourites = document.getElementById("favourites");
    if (favourites) {
      favourites.hidden = false;
      favourites.querySelectorAll("button.favourite").forEach(function (b) {
        b.addEventListener("click", function () {
          var rows = itemRows();
          var row = rows[rows.length - 1];
          if (row.querySelector("input.medicine").value.trim()) row = addRow();
          fillRow(row, Object.assign({}, b.dataset));
        });
      });
    }
    renumber();
  }

  // ---- sending the typed forms --------------------------------------------------------------

  var restored = false;
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    if (consult.dataset.fromForm !== "true" && restoreDraft(form)) restored = true;
    form.addEventListener("input", function () { saveDraft(form); });
    form.addEventListener("change", function () { saveDraft(form); });
  });
  if (restored) {
    var notice = document.createElement("p");
    notice.className = "notice";
    notice.id = "draft-restored";
    notice.setAttribute("role", "status");
    notice.textContent = consult.dataset.restored;
    problem.parentNode.insertBefore(notice, problem);
  }
  itemRows().forEach(suggest);

  function describe(answer) {
    var text = (answer.code ? answer.code + ": " : "") + (answer.message || "");
    (answer.fields || []).forEach(function (f) { text += " · " + f.field + ": " + f.message; });
    return consult.dataset.failed + " " + text;
  }

  function send(form, submitter) {
    var action = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action");
    var previewing = /\/preview$/.test(action);
    var body = new URLSearchParams(new FormData(form));
    var buttons = form.querySelectorAll("button[type=submit]");
    var local = form.querySelector(".form-problem");
    buttons.forEach(function (b) { b.disabled = true; });
    form.setAttribute("aria-busy", "true");
    fetch(action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (response) {
      return response.text().then(function (text) {
        var answer = null;
        try { answer = JSON.parse(text); } catch (e) { answer = { code: String(response.status), message: response.statusText }; }
        if (!response.ok) throw { answer: answer };
        return answer;
      });
    }).then(function (answer) {
      if (previewing) {
        var pre = document.getElementById("rx-preview");
        pre.textContent = answer.text;
        pre.lang = answer.lang;
        pre.hidden = false;
        say("", local);
        pre.scrollIntoView({ block: "nearest" });
        return;
      }
      if (form.dataset.draft) clearDraft(form);
      window.location.assign(answer.next);
    }).catch(function (failure) {
      // Nothing is lost: the form keeps its values and the draft stays stored.
      say(failure && failure.answer ? describe(failure.answer) : consult.dataset.offline, local);
    }).then(function () {
      buttons.forEach(function (b) { b.disabled = b.id === "issue" && b.dataset.locked === "true"; });
      form.removeAttribute("aria-busy");
    });
  }

  var issueButton = document.getElementById("issue");
  if (issueButton && issueButton.disabled) issueButton.dataset.locked = "true";
  document.querySelectorAll("form[data-draft], form.cancel-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form, event.submitter);
    });
  });
})();

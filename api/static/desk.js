// The pharmacist desk's QR scanner: the camera's frames go to the browser's BarcodeDetector
// where there is one, otherwise to jsQR (served from /static/vendor). A found QR's text is put
// in the form and sent for verification; typing the code always works without any of this.
(function () {
  "use strict";
  var button = document.getElementById("scan");
  var video = document.getElementById("camera");
  var status = document.getElementById("scan-status");
  var form = document.getElementById("verify-form");
  if (!button || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  button.hidden = false;
  var stream = null;
  var detect = null;
  var canvas = document.createElement("canvas");

  function loadJsQr() {
    return new Promise(function (resolve, reject) {
      if (window.jsQR) return resolve();
      var script = document.createElement("script");
      script.src = "/static/vendor/jsQR.js";
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function detector() {
    if ("BarcodeDetector" in window) {
      var native = new window.BarcodeDetector({ formats: ["qr_code"] });
      return Promise.resolve(function () {
        return native.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        });
      });
    }
    return loadJsQr().then(function () {
      return function () {
        var w = video.videoWidth, h = video.videoHeight;
        if (!w || !h) return Promise.resolve(null);
        canvas.width = w;
        canvas.height = h;
        var ctx = canvas.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(video, 0, 0, w, h);
        var found = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h);
        return Promise.resolve(found ? found.data : null);
      };
    });
  }

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    button.textContent = button.dataset.start;
  }

  function found(text) {
    stop();
    var scanned = document.getElementById("scanned");
    var code = document.getElementById("code");
    // A printed code typed into a QR (just the code) or the signed prescription itself.
    if (/^[A-Za-z0-9-]{6,40}$/.test(text)) { code.value = text; scanned.value = ""; }
    else { scanned.value = text; }
    form.submit();
  }

  function scan() {
    if (!stream) return;
    detect().then(function (text) {
      if (text) found(text);
      else requestAnimationFrame(scan);
    }, function () { requestAnimationFrame(scan); });
  }

  button.addEventListener("click", function () {
    if (stream) return stop();
    status.textContent = button.dataset.starting;
    Promise.all([
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
      detector()
    ]).then(function (got) {
      stream = got[0];
      detect = got[1];
      video.srcObject = stream;
      video.hidden = false;
      button.textContent = button.dataset.stop;
      return video.play().then(scan);
    }).catch(function () {
      stop();
      status.textContent = button.dataset.unavailable;
    });
  });
})();

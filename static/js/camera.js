// Camera scanning on the courier's pickup page: the browser's own BarcodeDetector where it
// reads Code 128, otherwise the vendored ponyfill (ZXing-C++ as WebAssembly), whose .wasm
// Waybill serves itself. A decoded code goes through the scan form like a scanner's.
(function () {
  var api = window.BarcodeDetectionAPI;
  if (api) {
    api.setZXingModuleOverrides({
      locateFile: function (path, prefix) {
        return path.endsWith(".wasm") ? "/static/vendor/zxing-wasm/" + path : prefix + path;
      }
    });
  }
  var detector = null;
  function getDetector() {
    if (detector) return Promise.resolve(detector);
    var native = window.BarcodeDetector;
    var check = native && native.getSupportedFormats
      ? native.getSupportedFormats().then(function (f) { return f.indexOf("code_128") >= 0; })
      : Promise.resolve(false);
    return check.then(function (ok) {
      var D = ok ? native : (api && api.BarcodeDetector);
      if (!D) throw new Error("No barcode decoder in this browser.");
      detector = new D({ formats: ["code_128"] });
      return detector;
    });
  }
  // Decodes the Code 128 symbols in an image, video frame or canvas; used by the camera loop
  // and by the tests.
  window.waybillDecode = function (source) {
    return getDetector()
      .then(function (d) { return d.detect(source); })
      .then(function (found) { return found.map(function (b) { return b.rawValue; }); });
  };

  var button = document.getElementById("camera");
  var form = document.getElementById("scan-form");
  if (!button || !form) return;
  // Browsers give the camera only to secure pages (https, or localhost): elsewhere the
  // button would do nothing, so it says why instead of showing.
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    var why = document.getElementById("scan-result");
    if (why && !window.isSecureContext) {
      why.textContent = "Camera scanning needs Waybill over https; type or use a scanner here.";
    }
    return;
  }
  button.hidden = false;
  var video = document.getElementById("camera-view");
  var last = "";
  button.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      (function tick() {
        if (video.readyState >= 2) {
          window.waybillDecode(video).then(function (codes) {
            if (codes.length && codes[0] !== last) {
              last = codes[0];
              document.getElementById("barcode").value = codes[0];
              form.requestSubmit();
            }
          }).catch(function () {});
        }
        setTimeout(tick, 300);
      })();
    }).catch(function (e) {
      document.getElementById("scan-result").textContent = "Camera unavailable: " + e.message;
    });
  });
})();

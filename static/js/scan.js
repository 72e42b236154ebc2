// Courier scanning: a hardware scanner types the code and Enter into #barcode. Without this
// file the form posts and the page reloads; with it each scan is sent in the background,
// ticks the parcel off and beeps (high: taken; low, twice: refused).
(function () {
  var form = document.getElementById("scan-form");
  if (!form) return;
  var input = document.getElementById("barcode");
  var out = document.getElementById("scan-result");
  var audio = null;
  function beep(freq, times) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      for (var i = 0; i < times; i++) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        osc.frequency.value = freq;
        osc.connect(gain);
        gain.connect(audio.destination);
        var t = audio.currentTime + i * 0.25;
        gain.gain.setValueAtTime(0.3, t);
        osc.start(t);
        osc.stop(t + 0.15);
      }
    } catch (e) { /* no sound: the colour still tells */ }
  }
  function say(cls, text) {
    out.className = cls;
    out.textContent = text;
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    input.value = "";
    input.focus();
    fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, j: j }; });
    }).then(function (res) {
      if (res.ok) {
        var li = document.getElementById("parcel-" + res.j.tracking_number);
        if (li) {
          li.classList.add("scanned");
          var tick = li.querySelector(".tick");
          if (tick) tick.textContent = "scanned";
        }
        document.getElementById("scan-count").textContent =
          res.j.scanned + " of " + res.j.expected + " scanned";
        say("ok", "✓ " + res.j.tracking_number + " (" + res.j.scanned + " of " + res.j.expected + ")");
        beep(1320, 1);
      } else {
        say("bad", "✗ " + (res.j.error || "Refused"));
        beep(220, 2);
        if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
      }
    }).catch(function () {
      say("bad", "✗ Not sent: check the connection and scan again.");
      beep(220, 2);
    });
  });
})();

// Completing with parcels not scanned leaves them with the seller, flagged: ask first.
(function () {
  var form = document.getElementById("complete-form");
  if (!form) return;
  form.addEventListener("submit", function (e) {
    var all = document.querySelectorAll("#parcels li").length;
    var done = document.querySelectorAll("#parcels li.scanned").length;
    if (done < all && !window.confirm("Complete with " + done + " of " + all +
        " scanned? The others stay with the seller, flagged.")) {
      e.preventDefault();
    }
  });
})();

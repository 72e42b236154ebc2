// Inbound scanning: a hardware scanner types the label's number and Enter into the first
// field. Enter there moves on to the weight instead of sending the form half filled; Enter in
// the weight sends it. Without this file Enter sends the form and the page asks for the weight.
(function () {
  var form = document.getElementById("inbound-form");
  if (!form) return;
  var number = document.getElementById("tracking_number");
  var weight = document.getElementById("weight_g");
  if (!number.value) number.focus(); else weight.focus();
  number.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !weight.value) {
      e.preventDefault();
      number.value = number.value.replace(/\s+/g, "").toUpperCase();
      weight.focus();
    }
  });
})();

// Progressive enhancement only: every page works without this file.
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});

// The sender address form asks for a Chinese address province first and any other street
// first (the server renders the order of the country it was given): follow a changed country.
(function () {
  var box = document.getElementById("address-fields");
  var country = document.getElementById("country");
  if (!box || !country) return;
  var codes = box.getAttribute("data-largest-first-countries").split(" ");
  country.addEventListener("change", function () {
    var code = country.value.trim().toUpperCase();
    var order = box.getAttribute(codes.indexOf(code) >= 0 ? "data-largest-first" : "data-street-first");
    var focused = document.activeElement;
    order.split(" ").forEach(function (name) {
      var input = document.getElementById(name);
      if (input) box.appendChild(input.closest(".field"));
    });
    if (focused && focused !== document.activeElement) focused.focus();
  });
})();

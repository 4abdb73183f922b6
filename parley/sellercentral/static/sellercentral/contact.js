// Contact Buyer: show the chosen reason's subject, limit and attachment rule; count characters.
// Progressive enhancement only: the form works the same without this file.
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) return;
  var body = document.getElementById("body");
  var counter = document.getElementById("counter");
  var live = document.getElementById("counter-live");
  var subject = document.getElementById("subject");
  var reach = document.getElementById("reach");
  var help = document.getElementById("body-help");
  var attRow = document.getElementById("attachments-row");
  var max = parseInt(body.getAttribute("maxlength"), 10) || 2000;
  var wasOver = false;

  function fmt(tpl, n) { return tpl.replace("{n}", String(n)); }

  function count() {
    var left = max - body.value.length;
    var over = left < 0;
    counter.textContent = over ? fmt(counter.dataset.templateOver, -left) : fmt(counter.dataset.templateLeft, left);
    counter.classList.toggle("over", over);
    // Announce only when crossing the limit, not on every keystroke.
    if (over !== wasOver || left === 0) { live.textContent = counter.textContent; }
    wasOver = over;
  }

  function choose(radio) {
    if (!radio) return;
    max = parseInt(radio.dataset.max, 10) || max;
    body.setAttribute("maxlength", String(max));
    subject.textContent = radio.dataset.subject;
    reach.textContent = radio.dataset.reach;
    help.textContent = radio.dataset.help;
    var none = radio.dataset.attachments === "none";
    attRow.hidden = none;
    if (none) { document.getElementById("attachments").value = ""; }
    count();
  }

  form.addEventListener("change", function (e) {
    if (e.target && e.target.name === "reason") choose(e.target);
  });
  body.addEventListener("input", count);
  choose(form.querySelector("input[name=reason]:checked"));
  count();
})();

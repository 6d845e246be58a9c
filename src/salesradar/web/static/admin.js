/* The vendor-commitment form: ask the server for the warnings of the terms as they are typed
   (vague terms, an unrealistic timeline, fee terms that do not fit the model). Without this
   script the same warnings show after the submit, on the commitment's page. */
(function () {
  "use strict";
  var form = document.getElementById("commitment-form");
  if (!form) { return; }
  var box = form.querySelector("[data-testid=c-warnings]");
  var list = form.querySelector("[data-testid=c-warning-list]");
  var he = form.getAttribute("data-lang") === "he";
  var timer = null;
  var asked = 0;

  function show(answer) {
    list.textContent = "";
    var items = answer.concerns || [];
    if (answer.error) {
      var li = document.createElement("li");
      li.className = "error";
      li.textContent = answer.error;
      list.appendChild(li);
    }
    items.forEach(function (c) {
      var li = document.createElement("li");
      li.className = "warn";
      li.setAttribute("data-code", c.code);
      li.textContent = he ? c.he : c.en;
      list.appendChild(li);
    });
    if (!items.length && !answer.error) {
      var ok = document.createElement("li");
      ok.className = "good";
      ok.textContent = box.getAttribute("data-none");
      list.appendChild(ok);
    }
  }

  function check() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrf_token" && typeof value === "string") { params.append(key, value); }
    });
    var mine = ++asked;
    fetch(form.getAttribute("data-check") + "?" + params.toString(),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) { if (answer && mine === asked) { show(answer); } })
      .catch(function () { /* the submit still checks everything */ });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 250);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  check();
}());

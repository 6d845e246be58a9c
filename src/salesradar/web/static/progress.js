/* Live progress of an import or a refresh: poll the page's status URL (JSON) every second,
   move the bar and the stage, and reload the page when the job has ended (the server renders
   the result). Without this script the page reloads itself (<noscript> meta refresh). */
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");
  var stage = box.querySelector("[data-progress-stage]");
  var failures = 0;

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        var job = Object.prototype.hasOwnProperty.call(data, "job") ? data.job : data;
        failures = 0;
        if (!job || job.finished) { window.location.reload(); return; }
        if (bar) { bar.value = job.percent; bar.textContent = job.percent + "%"; }
        if (stage && job.stage_text) { stage.textContent = job.stage_text; }
        window.setTimeout(tick, 1000);
      })
      .catch(function () {
        failures += 1;
        if (failures > 5) { window.location.reload(); return; }
        window.setTimeout(tick, 2000);
      });
  }
  window.setTimeout(tick, 1000);
}());

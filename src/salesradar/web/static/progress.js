/* Progress, without leaving the page:
   - the upload form (/admin/data) sends its file with XMLHttpRequest to show how much is sent,
     refuses a file over the limit before sending it, and then opens the page the server
     answered (the proposal, or an error page);
   - an import's or a refresh's page polls its status URL (JSON) every second, moves the bar
     and the stage, and reloads itself when the job has ended (the server renders the result).
   Without this script the form posts as usual and the job pages reload themselves
   (<noscript> meta refresh). */
(function () {
  "use strict";

  function uploadForm(form) {
    var limit = Number(form.getAttribute("data-upload-limit") || "0");
    var box = document.querySelector("[data-upload-progress]");
    var bar = box && box.querySelector("progress");
    var percent = box && box.querySelector("[data-upload-percent]");
    var error = document.querySelector("[data-upload-error]");
    var button = form.querySelector("button[type=submit]");

    function fail(text) {
      if (error) { error.textContent = text; error.hidden = false; }
      if (box) { box.hidden = true; }
      if (button) { button.disabled = false; }
    }

    function show(html, url) {
      var answer = new DOMParser().parseFromString(html, "text/html");
      var main = answer.querySelector("main");
      if (url && url.indexOf("/admin/data/upload?") !== -1) { window.location.assign(url); return; }
      if (main) { document.querySelector("main").replaceWith(document.adoptNode(main)); }
      document.title = answer.title || document.title;
    }

    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var file = input && input.files && input.files[0];
      if (!file || !window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      if (error) { error.hidden = true; }
      if (limit && file.size > limit) { fail(form.getAttribute("data-too-large")); return; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable || !bar) { return; }
        var done = Math.floor(100 * e.loaded / e.total);
        bar.value = done;
        if (percent) { percent.textContent = done + "%"; }
      });
      xhr.addEventListener("load", function () {
        show(xhr.responseText, xhr.responseURL);
      });
      xhr.addEventListener("error", function () { fail(form.getAttribute("data-failed") || "upload failed"); });
      if (box) { box.hidden = false; }
      if (button) { button.disabled = true; }
      xhr.send(new FormData(form));
    });
  }

  function poll(box) {
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
  }

  var form = document.querySelector("form[data-upload-limit]");
  if (form) { uploadForm(form); }
  var box = document.querySelector("[data-progress-url]");
  if (box && window.fetch) { poll(box); }
}());

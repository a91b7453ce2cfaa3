// Progressive enhancement of the photo search form (which works without this file):
// drop a photo, see it, and drag a box on it to search only that region.
(function () {
  "use strict";
  var form = document.querySelector("form.photo-search");
  if (!form) return;
  var input = form.querySelector("input[type=file]");
  var zone = document.getElementById("dropzone");
  var preview = document.getElementById("preview");
  var image = document.getElementById("preview-image");
  var stage = document.getElementById("crop-stage");
  var box = document.getElementById("crop-box");
  var fields = ["x", "y", "w", "h"].map(function (n) { return form.querySelector("[name=crop_" + n + "]"); });
  var maxBytes = Number(form.dataset.maxUploadBytes || 0);
  var objectUrl = null;

  function message(text) {
    var p = form.querySelector(".client-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "error client-error";
      p.setAttribute("role", "alert");
      zone.appendChild(p);
    }
    p.textContent = text;
    p.hidden = !text;
  }

  function clearCrop() {
    fields.forEach(function (f) { f.value = ""; });
    box.hidden = true;
  }

  function show(file) {
    clearCrop();
    message("");
    if (!file) { preview.hidden = true; return; }
    if (file.type && file.type.indexOf("image/") !== 0) { message("That file is not an image."); return; }
    if (maxBytes && file.size > maxBytes) { message("That file is too large (over " + Math.round(maxBytes / 1048576) + " MiB)."); return; }
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(file);
    image.src = objectUrl;
    preview.hidden = false;
  }

  input.addEventListener("change", function () { show(input.files[0]); });

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    if (!e.dataTransfer.files.length) return;
    input.files = e.dataTransfer.files;
    show(input.files[0]);
  });

  // Cropping: the box is drawn in screen pixels and sent in the photo's own pixels.
  var start = null;
  function point(e) {
    var r = image.getBoundingClientRect();
    return { x: Math.min(Math.max(e.clientX - r.left, 0), r.width), y: Math.min(Math.max(e.clientY - r.top, 0), r.height) };
  }
  function draw(a, b) {
    var left = Math.min(a.x, b.x), top = Math.min(a.y, b.y);
    var width = Math.abs(a.x - b.x), height = Math.abs(a.y - b.y);
    box.style.left = left + "px"; box.style.top = top + "px";
    box.style.width = width + "px"; box.style.height = height + "px";
    box.hidden = false;
    var scale = image.naturalWidth / image.getBoundingClientRect().width;
    var values = [left, top, width, height].map(function (v) { return Math.floor(v * scale); });
    values[2] = Math.max(1, Math.min(values[2], image.naturalWidth - values[0]));
    values[3] = Math.max(1, Math.min(values[3], image.naturalHeight - values[1]));
    fields.forEach(function (f, i) { f.value = values[i]; });
  }
  stage.addEventListener("pointerdown", function (e) {
    e.preventDefault();
    start = point(e);
    stage.setPointerCapture(e.pointerId);
  });
  stage.addEventListener("pointermove", function (e) { if (start) draw(start, point(e)); });
  stage.addEventListener("pointerup", function (e) {
    if (!start) return;
    var end = point(e);
    // A click without a drag keeps the whole photo.
    if (Math.abs(end.x - start.x) < 8 || Math.abs(end.y - start.y) < 8) clearCrop(); else draw(start, end);
    start = null;
  });
  document.getElementById("crop-reset").addEventListener("click", clearCrop);
})();

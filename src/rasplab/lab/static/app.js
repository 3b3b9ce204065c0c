// rasplab lab, part 3 of 3: run as you type, open programs, share links, compile, start-up.
"use strict";

const DEBOUNCE_MS = 30; // an edit waits this long for the next keystroke before it is run

// ------------------------------------------------------------------ run as you type

const editor = new Editor("", () => scheduleRun());
let runTimer = null;
// One run per tab at a time: an edit made while a run is out waits for its answer, then the
// newest text is sent (a slow program typed fast takes one worker, never all of them).
let running = false;
let editedSinceSent = false;
let editAt = 0;

function scheduleRun() {
  editAt = performance.now();
  clearTimeout(runTimer);
  runTimer = setTimeout(runNow, DEBOUNCE_MS);
}

async function runNow() {
  if (running) {
    editedSinceSent = true;
    return;
  }
  running = true;
  editedSinceSent = false;
  const startedFrom = editAt;
  const request = { program: editor.value, input: $("input").value, name: $("sop-select").value };
  setStatus("running…");
  let answer;
  const sentAt = performance.now();
  try {
    answer = await post("/api/run", request);
    lab.lastFetchMs = performance.now() - sentAt;
  } catch (err) {
    answer = { ok: false, error: { message: "the server cannot be reached: " + err.message } };
  }
  running = false;
  if (editedSinceSent) {
    runNow(); // this answer is for older text: show the newest instead
    return;
  }
  showRun(answer);
  lab.lastLatencyMs = performance.now() - startedFrom;
  requestAnimationFrame(() =>
    setTimeout(() => {
      lab.lastPaintedMs = performance.now() - startedFrom;
      lab.renders += 1;
    }, 0),
  );
  setStatus(answer.ok ? `ran in ${Math.round(lab.lastLatencyMs)} ms` : "");
}

function showRun(answer) {
  showError($("error"), editor, answer.ok ? null : answer.error);
  if (answer.sops) fillSopSelect(answer.sops, answer.name);
  if (!answer.ok) {
    document.body.classList.add("stale");
    return;
  }
  document.body.classList.remove("stale");
  $("output-row").innerHTML = outputTable(answer.input, answer.output, answer.name);
  const a = answer.analysis;
  replaceIfChanged(
    $("analysis"),
    `<strong>${a.layers} layer${a.layers === 1 ? "" : "s"}</strong>, heads per layer ` +
      `<strong>[${a.heads_per_layer.join(", ")}]</strong><pre>${escapeHtml(a.text)}</pre>`,
  );
  $("execution").innerHTML = answer.execution_svg;
  replaceIfChanged($("graph"), answer.graph_svg);
}

// Typing in the input box leaves the program, so its graph and analysis, as they were:
// parsing and laying out a large drawing again would only cost time.
const shownHtml = new WeakMap();
function replaceIfChanged(element, html) {
  if (shownHtml.get(element) === html) return;
  element.innerHTML = html;
  shownHtml.set(element, html);
}

function outputTable(input, output, name) {
  const cells = (values) => values.map((v) => `<td>${escapeHtml(String(v))}</td>`).join("");
  return (
    `<table><tr><th>input</th>${cells(input)}</tr>` +
    `<tr class="out"><th>${escapeHtml(name)}</th>${cells(output)}</tr></table>`
  );
}

function fillSopSelect(names, chosen) {
  const select = $("sop-select");
  const current = [...select.options].map((o) => o.value);
  const wanted = ["", ...names];
  if (current.join("\n") !== wanted.join("\n")) {
    const keep = select.value;
    select.innerHTML = wanted
      .map((n) => `<option value="${escapeHtml(n)}">${n ? escapeHtml(n) : "(output)"}</option>`)
      .join("");
    select.value = wanted.includes(keep) ? keep : "";
  }
  select.title = `showing ${chosen}`;
}

// ------------------------------------------------------------------ programs and share links

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function shareLink() {
  const params = new URLSearchParams({ p: toBase64Url(editor.value), i: $("input").value });
  if ($("sop-select").value) params.set("n", $("sop-select").value);
  return `${location.origin}${location.pathname}#${params}`;
}

function openShared() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has("p")) return false;
  try {
    editor.value = fromBase64Url(params.get("p"));
  } catch (err) {
    setStatus("the share link is damaged: " + err.message);
    return false;
  }
  $("input").value = params.get("i") || "";
  if (params.get("n")) fillSopSelect([params.get("n")], params.get("n"));
  $("sop-select").value = params.get("n") || "";
  return true;
}

function openProgram(program, kind) {
  if (kind) $("program-select").value = `${kind}:${program.name}`;
  editor.value = program.source;
  $("input").value = program.input;
  $("sop-select").innerHTML = "";
  if (program.vocab) $("vocab").value = program.vocab;
  scheduleRun();
}

function fillProgramSelect(catalog) {
  const group = (label, kind, list) =>
    `<optgroup label="${label}">` +
    list.map((p) => `<option value="${kind}:${p.name}">${p.name}</option>`).join("") +
    "</optgroup>";
  $("program-select").innerHTML =
    `<option value="">—</option>` +
    group("examples", "examples", catalog.examples) +
    group("library", "library", catalog.library);
  $("program-select").addEventListener("change", (event) => {
    const [kind, name] = event.target.value.split(":");
    const found = (catalog[kind] || []).find((p) => p.name === name);
    if (found) openProgram(found);
  });
}

// ------------------------------------------------------------------ compile

let downloadUrl = null;

async function compileNow() {
  $("compile-button").disabled = true;
  setStatus("compiling…");
  const request = {
    program: editor.value,
    input: $("input").value,
    name: $("sop-select").value,
    vocab: $("vocab").value,
    max_len: parseInt($("max-len").value, 10),
  };
  let answer;
  try {
    answer = await post("/api/compile", request);
  } catch (err) {
    answer = { ok: false, error: { message: "the server cannot be reached: " + err.message } };
  }
  $("compile-button").disabled = false;
  setStatus("");
  showError($("compile-error"), null, answer.ok ? null : answer.error);
  $("compile-result").hidden = !answer.ok;
  if (answer.ok) showModel(answer);
}

function showModel(answer) {
  const s = answer.size;
  const rows = [
    ["layers", s.n_layers],
    ["heads per layer", `[${s.heads_per_layer.join(", ")}]`],
    ["d_model", s.d_model],
    ["d_mlp per layer", `[${s.d_mlp.join(", ")}]`],
    ["parameters", s.n_params.toLocaleString("en")],
    ["non-zero", s.n_nonzero.toLocaleString("en")],
  ];
  $("compile-size").innerHTML = rows
    .map(([k, v]) => `<tr><th>${k}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join("");
  $("compile-report").textContent = answer.report;
  $("residual").innerHTML = answer.residual_svg || "";
  $("residual-note").textContent = answer.residual_note || "";
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = null;
  const link = $("download");
  if (answer.model_b64) {
    const bytes = Uint8Array.from(atob(answer.model_b64), (c) => c.charCodeAt(0));
    downloadUrl = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    link.href = downloadUrl;
    link.download = `${answer.name || "model"}.safetensors`;
    link.hidden = false;
    $("download-size").textContent = `(${answer.model_bytes.toLocaleString("en")} bytes)`;
  } else {
    link.hidden = true;
    $("download-size").textContent = `the model file (${answer.model_bytes} bytes) is too large to offer here`;
  }
}

// ------------------------------------------------------------------ tabs and start-up

function showTab(name) {
  for (const b of document.querySelectorAll(".tabs button")) {
    b.classList.toggle("active", b.dataset.tab === name);
  }
  for (const pane of document.querySelectorAll(".pane")) pane.hidden = pane.id !== `pane-${name}`;
}

async function start() {
  const response = await fetch("/api/catalog");
  const catalog = (lab.catalog = await response.json());
  fillProgramSelect(catalog);
  fillPuzzleList(catalog.puzzles);
  openPuzzle(catalog.puzzles[0].name);
  $("max-len").max = catalog.limits.max_compile_len;
  $("input").maxLength = catalog.limits.max_input_tokens * 12;
  if (openShared()) {
    scheduleRun();
  } else {
    openProgram(catalog.examples.find((p) => p.name === "sort") || catalog.examples[0], "examples");
  }
}

$("input").addEventListener("input", scheduleRun);
$("sop-select").addEventListener("change", scheduleRun);
$("compile-button").addEventListener("click", compileNow);
$("share").addEventListener("click", () => {
  const link = shareLink();
  history.replaceState(null, "", link);
  $("share-link").value = link;
  $("share-link").hidden = false;
  $("share-link").select();
  if (navigator.clipboard) navigator.clipboard.writeText(link).catch(() => {});
});
$("error").addEventListener("click", () => {
  if ($("error").dataset.line) editor.focusAt(+$("error").dataset.line, +$("error").dataset.column);
});
for (const b of document.querySelectorAll(".tabs button")) {
  b.addEventListener("click", () => showTab(b.dataset.tab));
}
window.addEventListener("hashchange", () => {
  if (openShared()) scheduleRun();
});
start().catch((err) => setStatus("the lab could not start: " + err.message));

// rasplab lab, part 1 of 3: the editor (line numbers, colours, errors marked at their place)
// and what the other parts share. Plain JavaScript, no build step, nothing from the network.
"use strict";

const $ = (id) => document.getElementById(id);
// What the browser tests and the benchmark read: how many views were drawn, and how fast.
// lastFetchMs: the request alone, sent to answer read; lastLatencyMs: from the last keystroke
// to the new view in the page; lastPaintedMs: to the first frame drawn after it.
const lab = (window.rasplabLab = {
  renders: 0,
  lastLatencyMs: null,
  lastPaintedMs: null,
  lastFetchMs: null,
  catalog: null,
});

// ------------------------------------------------------------------ syntax colouring

const KEYWORDS = new Set(["def", "return", "if", "else", "for", "in", "and", "or", "not", "load"]);
const BUILTINS = new Set([
  "select", "aggregate", "selector_width", "tokens", "indices", "length", "indicator", "round",
  "tokens_str", "tokens_int", "tokens_float", "tokens_bool", "tokens_asis", "full_s", "range",
  "zip", "len", "True", "False",
]);
const TOKEN = /(#[^\n]*)|("[^"\n]*"?)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_]\w*)|(==|!=|<=|>=|[<>+\-*\/%^=])/g;

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function colourLine(line) {
  let out = "";
  let last = 0;
  for (const m of line.matchAll(TOKEN)) {
    out += escapeHtml(line.slice(last, m.index));
    const text = escapeHtml(m[0]);
    let kind = "";
    if (m[1]) kind = "comment";
    else if (m[2]) kind = "string";
    else if (m[3]) kind = "number";
    else if (m[4]) kind = KEYWORDS.has(m[4]) ? "keyword" : BUILTINS.has(m[4]) ? "builtin" : "";
    else if (m[5]) kind = "operator";
    out += kind ? `<span class="tok-${kind}">${text}</span>` : text;
    last = m.index + m[0].length;
  }
  return out + escapeHtml(line.slice(last));
}

// ------------------------------------------------------------------ the editor

class Editor {
  constructor(prefix, onEdit) {
    this.area = $(prefix + "source");
    this.highlight = $(prefix + "highlight");
    this.gutter = $(prefix + "gutter");
    this.error = null; // {line, column}
    this.area.addEventListener("input", () => {
      this.error = null;
      this.render();
      onEdit();
    });
    this.area.addEventListener("scroll", () => this.syncScroll());
    this.area.addEventListener("keydown", (event) => {
      if (event.key === "Tab") {
        event.preventDefault();
        document.execCommand("insertText", false, "    ");
      }
    });
  }

  get value() {
    return this.area.value;
  }

  set value(text) {
    this.area.value = text;
    this.error = null;
    this.render();
  }

  markError(line, column) {
    this.error = line ? { line, column: column || 1 } : null;
    this.render();
  }

  render() {
    const lines = this.area.value.split("\n");
    const err = this.error;
    this.highlight.innerHTML =
      lines
        .map((line, i) => {
          if (!err || err.line !== i + 1) return colourLine(line);
          const at = Math.min(Math.max(err.column - 1, 0), line.length);
          const mark = escapeHtml(line.slice(at, at + 1) || " ");
          return (
            `<span class="error-line">${colourLine(line.slice(0, at))}` +
            `<span class="error-at">${mark}</span>${colourLine(line.slice(at + 1))}</span>`
          );
        })
        .join("\n") + "\n";
    this.gutter.innerHTML = lines
      .map((_, i) => `<div class="${err && err.line === i + 1 ? "error-line" : ""}">${i + 1}</div>`)
      .join("");
    this.syncScroll();
  }

  syncScroll() {
    this.highlight.scrollTop = this.area.scrollTop;
    this.highlight.scrollLeft = this.area.scrollLeft;
    this.gutter.scrollTop = this.area.scrollTop;
  }

  focusAt(line, column) {
    const lines = this.area.value.split("\n");
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    offset += Math.max((column || 1) - 1, 0);
    this.area.focus();
    this.area.setSelectionRange(offset, offset);
  }
}

function showError(box, editor, error) {
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    if (editor) editor.markError(null);
    return;
  }
  const where = error.line ? `line ${error.line}, column ${error.column || 1}: ` : "";
  box.textContent = where + error.message;
  box.hidden = false;
  box.dataset.line = error.line || "";
  box.dataset.column = error.column || "";
  if (editor) editor.markError(error.line, error.column);
}

// ------------------------------------------------------------------ talking to the server

async function post(route, body) {
  const response = await fetch(route, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) return { ok: false, error: { message: answer.error || response.statusText } };
  return answer;
}

function setStatus(text) {
  $("status").textContent = text;
}

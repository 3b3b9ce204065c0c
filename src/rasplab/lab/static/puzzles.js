// rasplab lab, part 2 of 3: the puzzles, checked by the server, progress kept in the browser.
"use strict";

const STORE_KEY = "rasplab-lab-puzzles";

const progress = loadProgress();
const puzzleEditor = new Editor("puzzle-", () => {
  progress.drafts[currentPuzzle.name] = puzzleEditor.value;
  saveProgress();
});
let currentPuzzle = null;

function loadProgress() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "{}");
    return { solved: stored.solved || {}, drafts: stored.drafts || {} };
  } catch {
    return { solved: {}, drafts: {} };
  }
}

function saveProgress() {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify(progress));
  } catch {
    // private windows may refuse storage: progress then lasts as long as the tab
  }
}

function fillPuzzleList(puzzles) {
  $("puzzle-list").innerHTML = puzzles
    .map(
      (p) =>
        `<li><button type="button" data-puzzle="${p.name}" class="${progress.solved[p.name] ? "solved" : ""}">` +
        `${escapeHtml(p.title)} <span class="budget">${p.budget.layers}L×${p.budget.heads}H</span></button></li>`,
    )
    .join("");
  const solved = puzzles.filter((p) => progress.solved[p.name]).length;
  $("puzzle-progress").textContent = `${solved} of ${puzzles.length} solved`;
}

function openPuzzle(name) {
  currentPuzzle = lab.catalog.puzzles.find((p) => p.name === name);
  $("puzzle-title").textContent = `${currentPuzzle.number}. ${currentPuzzle.title}: ${currentPuzzle.signature}`;
  $("puzzle-budget").textContent = `budget: ${currentPuzzle.budget.text}`;
  $("puzzle-statement").textContent = currentPuzzle.statement;
  puzzleEditor.value = progress.drafts[name] || currentPuzzle.template;
  for (const b of $("puzzle-list").querySelectorAll("button")) {
    b.classList.toggle("current", b.dataset.puzzle === name);
  }
  $("puzzle-status").textContent = progress.solved[name] ? "solved" : "";
  $("puzzle-report").hidden = true;
  $("puzzle-counterexample").innerHTML = "";
  showError($("puzzle-error"), puzzleEditor, null);
}

async function checkPuzzle() {
  const name = currentPuzzle.name;
  $("puzzle-check").disabled = true;
  $("puzzle-status").textContent = "checking…";
  let answer;
  try {
    answer = await post("/api/puzzle", { puzzle: name, program: puzzleEditor.value });
  } catch (err) {
    answer = { ok: false, error: { message: "the server cannot be reached: " + err.message } };
  }
  $("puzzle-check").disabled = false;
  showError($("puzzle-error"), puzzleEditor, answer.ok ? null : answer.error);
  $("puzzle-status").textContent = answer.ok ? answer.status : "error";
  $("puzzle-status").className = "verdict " + (answer.solved ? "good" : "bad");
  $("puzzle-report").hidden = !answer.ok;
  $("puzzle-report").textContent = answer.ok ? answer.report : "";
  $("puzzle-counterexample").innerHTML = (answer.ok && answer.counterexample_svg) || "";
  if (answer.solved) {
    progress.solved[name] = true;
    saveProgress();
    fillPuzzleList(lab.catalog.puzzles);
  }
}

$("puzzle-check").addEventListener("click", checkPuzzle);
$("puzzle-list").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-puzzle]");
  if (button) openPuzzle(button.dataset.puzzle);
});

"use strict";
// The library's mood map: every playable track where its mood data puts it.
const SVG = "http://www.w3.org/2000/svg";
const COLOURS = {analysed: "#5ccf8a", file: "#f2a93b", imported: "#4d8ccf", genre: "#c38cff", none: "#93a1ad"};

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  parent.appendChild(node);
  return node;
}

async function draw() {
  const r = await fetch("/api/library", {credentials: "same-origin"});
  const body = await r.json();
  const svg = document.getElementById("map");
  if (!r.ok) { document.getElementById("counts").textContent = body.error || `error ${r.status}`; return; }
  el("rect", {x: -1, y: -1, width: 2, height: 2, class: "frame"}, svg);
  el("line", {x1: -1, y1: 0, x2: 1, y2: 0, class: "axis"}, svg);
  el("line", {x1: 0, y1: -1, x2: 0, y2: 1, class: "axis"}, svg);
  el("text", {x: 0.98, y: 0.1, "text-anchor": "end"}, svg).textContent = "pleasant →";
  el("text", {x: 0.03, y: -1.03}, svg).textContent = "↑ energetic";
  const counts = {};
  let n = 0;
  for (const t of body.tracks) {
    const source = t.source || "none";
    counts[source] = (counts[source] || 0) + 1;
    if (typeof t.valence !== "number") continue;
    // Tracks tagged with the same mood share a point: a small fixed spread shows how many.
    n += 1;
    const dx = ((n * 37) % 11 - 5) * 0.008, dy = ((n * 53) % 13 - 6) * 0.008;
    const c = el("circle", {cx: t.valence + dx, cy: -t.arousal + dy, r: 0.02, fill: COLOURS[source] || "#fff", opacity: 0.8}, svg);
    el("title", {}, c).textContent = `${t.artist || "?"} – ${t.title} (${t.mood || "no mood"}, ${source})`;
  }
  document.getElementById("sources").replaceChildren(...Object.entries(COLOURS).map(([name, colour]) => {
    const s = document.createElement("span"); s.innerHTML = ""; const k = document.createElement("span");
    k.className = "k"; k.style.background = colour; s.append(k, `${name} (${counts[name] || 0})`); return s; }));
  document.getElementById("counts").textContent = `${body.tracks.length} tracks`;
}
draw();

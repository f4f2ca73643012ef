"use strict";
// The dashboard: one live stream of the daemon's view (server-sent events), commands posted
// with the page's token. No framework, no build step, nothing fetched from elsewhere.
const csrf = document.querySelector('meta[name="csrf"]').content;
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let last = null, receivedAt = 0, moodsLoaded = false, shownOverride = null;

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function text(id, value) { $(id).textContent = value == null || value === "" ? "—" : String(value); }
function fmt(n) { return typeof n === "number" ? n.toFixed(2) : "—"; }
function clock(s) { s = Math.max(0, Math.round(s)); return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`; }

async function send(verb, value) {
  $("answer").textContent = "…";
  try {
    const r = await fetch(`/api/cmd/${verb}`, {
      method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify({value: value == null ? "" : value}), credentials: "same-origin"});
    const body = await r.json().catch(() => ({}));
    $("answer").textContent = r.ok ? `${verb}: sent` : (body.error || `error ${r.status}`);
    $("answer").className = r.ok ? "muted" : "error";
  } catch (e) {
    $("answer").textContent = "the device did not answer"; $("answer").className = "error";
  }
}

function chips(s) {
  const parts = [["camera", s.camera === "ok"], [s.broker === "off" ? "no broker" : "broker", s.broker === "connected" || s.broker === "off"],
                 [s.open ? "open" : "closed", s.open]];
  $("chips").replaceChildren(...parts.map(([name, ok]) => {
    const c = document.createElement("span"); c.className = `chip ${ok ? "ok" : "bad"}`;
    c.textContent = name; return c; }));
}

function drawPlane(view) {
  const svg = $("chart"); svg.replaceChildren();
  el("rect", {x: -1, y: -1, width: 2, height: 2, class: "frame"}, svg);
  el("line", {x1: -1, y1: 0, x2: 1, y2: 0, class: "axis"}, svg);
  el("line", {x1: 0, y1: -1, x2: 0, y2: 1, class: "axis"}, svg);
  const labels = [[0.98, 0.1, "pleasant →", "end"], [-0.98, 0.1, "← unpleasant", "start"],
                  [0.03, -1.03, "↑ energetic", "start"], [0.03, 1.1, "↓ calm", "start"]];
  for (const [x, y, t, anchor] of labels) el("text", {x, y, "text-anchor": anchor}, svg).textContent = t;
  const pt = (p) => [p.valence, -p.arousal];
  const trail = view.trail.filter((p) => typeof p.valence === "number");
  if (trail.length > 1) el("polyline", {points: trail.map((p) => pt(p).join(",")).join(" "), class: "trail"}, svg);
  for (const t of view.played.slice(-40)) {
    if (typeof t.valence !== "number") continue;
    const [x, y] = pt(t);
    const r = el("rect", {x: x - 0.025, y: y - 0.025, width: 0.05, height: 0.05, class: "track"}, svg);
    el("title", {}, r).textContent = `${t.artist || "?"} – ${t.title}`;
  }
  const s = view.state;
  if (s.target) { const [x, y] = pt(s.target); el("circle", {cx: x, cy: y, r: 0.07, class: "target"}, svg); }
  if (s.reading) { const [x, y] = pt(s.reading); el("circle", {cx: x, cy: y, r: 0.045, class: "reading"}, svg); }
  if (typeof s.valence === "number") { const [x, y] = pt(s); el("circle", {cx: x, cy: y, r: 0.05, class: "smoothed"}, svg); }
}

function fillAnnouncements(names) {
  const box = $("announce-buttons");
  if (box.childElementCount || !names || !names.length) return;
  for (const name of names) {
    const b = document.createElement("button"); b.type = "button"; b.textContent = `Announce ${name}`;
    b.onclick = () => send("announce", name); box.appendChild(b);
  }
}

function fillMoods(names) {
  if (moodsLoaded || !names) return;
  moodsLoaded = true;
  for (const name of names) { const o = document.createElement("option"); o.value = name; o.textContent = name; $("override").appendChild(o); }
}

function render(view) {
  last = view; receivedAt = Date.now();
  const s = view.state || {};
  fillMoods(view.mood_names);
  fillAnnouncements(view.announcement_names);
  chips(s);
  const np = s.now_playing;
  text("title", np ? np.title : "nothing playing");
  text("artist", np ? `${np.artist || "?"}${np.mood ? " · " + np.mood : ""}` : "");
  $("why").textContent = np && np.why ? np.why : "";
  text("next", s.queue_head ? `${s.queue_head.artist || "?"} – ${s.queue_head.title}` : "");
  text("mood-label", s.mood_label || s.mood);
  text("valence", fmt(s.valence)); text("arousal", fmt(s.arousal));
  text("confidence", fmt(s.confidence)); text("source", s.mood_source);
  $("evidence").textContent = s.main_evidence ? `from: ${s.main_evidence}` : "";
  $("caption").textContent = s.caption ? `“${s.caption}”` : "";
  $("pause").textContent = s.paused ? "Resume" : "Pause";
  if (document.activeElement !== $("volume")) { $("volume").value = s.volume; $("volume-out").textContent = s.volume; }
  $("auto").checked = !!s.auto;
  // Only a change of the override moves the menu: a view arriving while someone is choosing
  // must not put their choice back before they press Set.
  if ((s.override || "auto") !== shownOverride) { shownOverride = s.override || "auto"; $("override").value = shownOverride; }
  $("override-info").textContent = s.override ? `override: ${s.override} until ${new Date(s.override_until * 1000).toLocaleTimeString()}` : "following the camera";
  const sch = s.schedule || {};
  text("open", s.open ? "playing hours" : "closed");
  text("next-change", (sch.next_change ? new Date(sch.next_change * 1000).toLocaleString() : "none (always open)")
    + (sch.special_day ? ` — today: ${sch.special_day}` : ""));
  text("daypart", sch.daypart_volume);
  text("camera", `${s.camera}${s.camera_detail ? ": " + s.camera_detail : ""}`);
  text("broker", s.broker); text("reader", `${s.reader}${s.reader_detail ? ": " + s.reader_detail : ""}`);
  const st = s.storage || {}; text("storage", st.library === "ok" && st.state === "ok" ? "ok" : `${st.library}; ${st.state}`);
  const rules = s.rules || {};
  text("rules", `${(rules.in_force || []).join(", ") || "none in force"}${rules.note ? " — " + rules.note : ""}`);
  text("announcing", s.announcing ? `${s.announcing}${s.announcements_waiting ? ` (+${s.announcements_waiting} waiting)` : ""}` : "no");
  const v = s.vehicle;
  for (const node of document.querySelectorAll(".car")) node.hidden = !v;
  if (v) {
    const speed = v.speed_kmh == null ? "no speed" : `${Math.round(v.speed_kmh)} km/h (${v.speed_source})`;
    const lift = v.road_boost_db > 0.05 ? `, road lift +${v.road_boost_db.toFixed(1)} dB` : "";
    text("vehicle", `${speed}, ${v.motion}, ${v.situation.replace(/_/g, " ")}${v.daylight ? ", " + v.daylight : ""}${lift}`);
    text("vehicle-signals", `OBD ${v.obd}; GNSS ${v.gnss}${v.clock !== "ok" ? "; " + v.clock : ""}`);
  }
  $("last-error").textContent = s.last_error ? `Last error: ${s.last_error}` : "";
  $("errors").replaceChildren(...view.errors.slice(-5).reverse().map((e) => {
    const li = document.createElement("li"); li.textContent = `${new Date(e.at * 1000).toLocaleTimeString()} ${e.error}`; return li; }));
  drawPlane(view);
  tickProgress();
  const now = s.now_playing;
  loadPlays(`${now ? now.id : ""}|${s.announcing || ""}|${s.paused}`);
}

let playsFor = null;
async function loadPlays(key) {
  // The log changes when a track starts: read it again then (and on first view), not per frame.
  if (key === playsFor) return;
  playsFor = key;
  try {
    const r = await fetch("/api/plays?limit=15", {credentials: "same-origin"});
    if (!r.ok) return;
    const {plays} = await r.json();
    $("plays").replaceChildren(...plays.map((p) => {
      const li = document.createElement("li");
      const when = new Date(p.started_at * 1000).toLocaleTimeString();
      const heard = p.seconds == null ? "playing" : clock(p.seconds);
      li.textContent = p.kind === "announcement" ? `${when} announcement: ${p.title} (${heard})`
        : `${when} ${p.artist || "?"} – ${p.title} (${heard}${p.mood ? ", " + p.mood : ""})`;
      return li; }));
  } catch (e) { /* the live view says when the device does not answer */ }
}

function tickProgress() {
  const s = last && last.state; const p = s && s.position_s;
  if (!p || !p.length) { $("progress").style.width = "0"; text("elapsed", ""); return; }
  const at = Math.min(p.length, p.at + (s.paused ? 0 : (Date.now() - receivedAt) / 1000));
  $("progress").style.width = `${(100 * at / p.length).toFixed(1)}%`;
  $("elapsed").textContent = `${clock(at)} / ${clock(p.length)}`;
}

function connect() {
  const stream = new EventSource("/api/events");
  stream.addEventListener("view", (e) => { $("link").textContent = "live"; $("link").className = "link live"; render(JSON.parse(e.data)); });
  stream.onerror = () => { $("link").textContent = "connection lost, reconnecting…"; $("link").className = "link"; };
}

$("skip").onclick = () => send("skip");
$("ban").onclick = () => send("ban");
$("pause").onclick = () => send(last && last.state.paused ? "resume" : "pause", "ON");
$("rescan").onclick = () => send("rescan");
$("volume").oninput = () => { $("volume-out").textContent = $("volume").value; };
$("volume").onchange = () => send("volume", $("volume").value);
$("set-override").onclick = () => {
  const mood = $("override").value;
  send("mood", mood === "auto" ? "auto" : JSON.stringify({mood, minutes: Number($("minutes").value)}));
};
$("auto").onchange = () => send("auto", $("auto").checked ? "ON" : "OFF");
if (document.querySelector('meta[name="logout"]').content) $("logout").hidden = false;
if (document.querySelector('meta[name="role"]').content === "staff") {
  // The owner's controls are not the staff's (the daemon refuses them too).
  for (const node of document.querySelectorAll(".owner")) node.hidden = true;
  $("role-note").hidden = false;
}
setInterval(tickProgress, 1000);
connect();

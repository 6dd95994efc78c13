/* rjbot console: live updates (bot/console/live.py). A page that names an event stream
   (body data-live-events) follows it: on `change` it fetches itself again (data-live-part)
   and swaps in its [data-live] sections, keeping whatever the facilitator is working in
   (focus, typed text, a changed choice). The tab's title carries the urgent count. Without
   this script every page works as before: reload to see new things. */
(() => {
  "use strict";
  const body = document.body;
  const status = document.getElementById("live-status");
  const events = body.dataset.liveEvents;
  const part = body.dataset.livePart;
  if (!events || !part || !status || !window.EventSource) return;

  const say = (text) => { status.textContent = text; };
  const title = (urgent) => {
    const bare = document.title.replace(/^\(\d+\) /, "");
    document.title = (urgent > 0 ? `(${urgent}) ` : "") + bare;
  };
  // a field the facilitator changed; a text box with words in it (a refused note comes back
  // with the words in it) counts too, as the fresh copy would come back empty
  const changed = (f) => {
    if (f.type === "checkbox" || f.type === "radio") return f.checked !== f.defaultChecked;
    if (f.tagName === "SELECT") return [...f.options].some((o) => o.selected !== o.defaultSelected);
    if (f.tagName === "TEXTAREA" && f.value.trim() !== "") return true;
    return f.type !== "hidden" && f.value !== f.defaultValue;
  };
  // the facilitator is working in `el`: it holds the focus or a field they changed
  const busy = (el) => {
    const active = document.activeElement;
    if (active && active !== document.body && el.contains(active)) return true;
    if (el.matches("input, textarea, select")) return changed(el);
    return [...el.querySelectorAll("input, textarea, select")].some(changed);
  };
  // `old` takes `fresh`'s place; where the facilitator is working, it stays and only its
  // children are brought up to date (matched by id, else by position). Returns what is shown.
  const merge = (old, fresh) => {
    if (!busy(old)) { old.replaceWith(fresh); return fresh; }
    const olds = [...old.children];
    const anonymous = olds.filter((c) => !c.id);
    const used = new Set();
    let position = 0;
    let previous = null;
    for (const f of [...fresh.children]) {
      let o = f.id ? olds.find((c) => c.id === f.id) : anonymous[position++];
      if (o && (o.tagName !== f.tagName || used.has(o))) o = undefined;
      if (o) { used.add(o); previous = merge(o, f); continue; }
      if (previous) previous.after(f); else old.prepend(f);
      previous = f;
    }
    for (const o of olds) if (!used.has(o) && !busy(o)) o.remove();
    return old;
  };

  let fetching = false;
  let again = false;
  const refresh = async () => {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const response = await fetch(part, { credentials: "same-origin" });
      if (!response.ok || response.redirected) {
        say("Live updates stopped. Reload the page to see what is new.");
        return;
      }
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const old of document.querySelectorAll("[data-live]")) {
        const fresh = doc.getElementById(old.id);
        if (fresh) merge(old, fresh);
      }
      document.title = doc.title;
      const at = new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
      const urgent = /^\((\d+)\) /.exec(doc.title);
      say(`Updated at ${at}. Urgent items: ${urgent ? urgent[1] : "none"}.`);
    } catch (err) {
      say("Live updates could not load. Reload the page to see what is new.");
    } finally {
      fetching = false;
      if (again) { again = false; refresh(); }
    }
  };

  const stream = new EventSource(`${events}?since=${encodeURIComponent(body.dataset.liveSince || "0")}`);
  stream.addEventListener("ready", (e) => title(JSON.parse(e.data).urgent));
  stream.addEventListener("change", (e) => { title(JSON.parse(e.data).urgent); refresh(); });
  stream.addEventListener("ended", (e) => {
    stream.close();
    const why = JSON.parse(e.data).reason;
    say(why === "signed_out"
      ? "Live updates stopped: your session has ended. Anything you type here is kept when you send it and sign in again."
      : "Live updates stopped: this case is no longer open to you. Reload the page.");
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) {
      say("Live updates stopped. Reload the page to see what is new.");
    }
  });
})();

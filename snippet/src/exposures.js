// The exposures of one view. Each experience is recorded once per view. With
// apply: "dom" they are recorded when the decision is applied to the page; with
// apply: "none" the page applies nothing, so an exposure waits until the app says the
// slot was shown (perso.shown(slot)); the holdout's marker goes with the first slot shown.

// The holdout's exposure, as edge.decide logs it (HOLDOUT_EXPERIENCE,
// HOLDOUT_VARIANT): one per view for a visitor in the global holdout, with no slot.
const HOLDOUT = { experience: "__holdout__", variant: "holdout", slot: null };

// The exposures a list of decisions implies, for decisions replayed from the device
// cache (which keeps no exposure list): one per slot an experience filled (a control
// variant too; never a QA-forced one), and the holdout's marker on a view the holdout counts (a slot withheld,
// or the worker's `holdout` flag): a holdout visitor keeps the experiences outside the
// holdout's scope (`consent: none` by default).
export function exposuresOf(decisions) {
  const list = decisions.filter((d) => d.experience != null && d.reason !== "forced")
    .map((d) => (d.scope === false
      ? { experience: d.experience, variant: d.variant, slot: d.slot, scope: false }
      : { experience: d.experience, variant: d.variant, slot: d.slot }));
  return decisions.some((d) => d.reason === "holdout" || d.holdout === true) ? [HOLDOUT, ...list] : list;
}

// record(exposure) stores and sends one exposure; it is called at most once per
// experience for the life of this object (one view).
export function makeViewExposures(record) {
  const done = new Set();
  let bySlot = new Map();
  let marker = null;
  const once = (e) => {
    if (!e || done.has(e.experience)) return;
    done.add(e.experience);
    record(e);
  };
  return {
    // The exposures of the decision now in force; `now`: record them at once ("dom").
    offer(list, now) {
      bySlot = new Map();
      marker = null;
      for (const e of list) if (e && e.slot == null) marker = e; else if (e) bySlot.set(e.slot, e);
      if (now) { once(marker); for (const e of bySlot.values()) once(e); }
    },
    shown(slot) {
      once(marker);
      once(bySlot.get(slot));
    },
  };
}

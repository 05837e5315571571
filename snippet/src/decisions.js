// The current decision of every slot, as perso.get(slot) returns it. A slot whose
// decision did not change keeps the very same (frozen) object, so a framework that
// compares by identity (React's useSyncExternalStore) renders again only the slots that
// changed, and a re-decision with the same outcome changes nothing on the screen.

// What a decision says (the core's fields; `selector` is the slot's, `reason` why it
// got this: "matched", "holdout", "audience", ... see edge.decide.REASONS).
// `reason` is null only for a decision replayed from a device cache written before
// decisions carried their reason.
export function slotDecision(d, selector) {
  return {
    slot: d.slot, selector: d.selector || selector || "",
    experience: d.experience ?? null, variant: d.variant ?? null, content: d.content ?? null,
    reason: typeof d.reason === "string" ? d.reason : null,
  };
}

export function makeDecisions() {
  let current = new Map(); // slot -> [signature, frozen decision]
  return {
    // Replace every slot's decision; returns the list with unchanged slots' old objects.
    set(list) {
      const next = new Map();
      const out = list.map((d) => {
        const sig = JSON.stringify([d.selector, d.experience, d.variant, d.content, d.reason]);
        const had = current.get(d.slot);
        const kept = had && had[0] === sig ? had[1] : Object.freeze({ ...d });
        next.set(d.slot, [sig, kept]);
        return kept;
      });
      current = next;
      return out;
    },
    get(slot) { const had = current.get(slot); return had ? had[1] : null; },
  };
}
